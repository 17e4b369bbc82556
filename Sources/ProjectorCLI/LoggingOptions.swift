import ArgumentParser
import Logging

/// `--log-format text|json` and `--log-level`, for the commands that run workers.
struct LoggingOptions: ParsableArguments {
    /// How each log line is written to stderr.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(help: "Log lines as text (label level: message key=value) or one JSON object per line.")
    var logFormat: Format = .text

    @Option(help: ArgumentHelp("The least severe level logged: trace, debug, info, notice, warning, error, critical.",
                               valueName: "level"),
            transform: { text in
                guard let level = Logger.Level(rawValue: text.lowercased()) else {
                    throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; got '\(text)'.")
                }
                return level
            })
    var logLevel: Logger.Level = .info
}

/// A command whose logging the command line configures.
protocol ConfiguresLogging {
    var logging: LoggingOptions { get }
}

extension LoggingOptions {
    /// Bootstraps swift-log with these options.
    func bootstrap() { Self.bootstrap(format: logFormat, level: logLevel) }

    /// Bootstraps swift-log once for the process and routes librdkafka's own log lines into it.
    static func bootstrap(format: Format, level: Logger.Level) {
        LoggingSystem.bootstrap { LineLogHandler(label: $0, logLevel: level, format: format) }
        routeLibrdkafkaLogs()
    }
}
