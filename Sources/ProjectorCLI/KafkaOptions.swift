import ArgumentParser
import Foundation
import KafkaClient

/// Repeatable `-X key=value` librdkafka properties, as in kcat.
struct LibrdkafkaPropertyOptions: ParsableArguments {
    @Option(
        name: .customShort("X"),
        help: ArgumentHelp("A librdkafka property, key=value (repeatable), e.g. -X linger.ms=20.", valueName: "key=value")
    )
    var properties: [String] = []

    /// The properties as a dictionary; a malformed entry is a usage error (exit 2).
    func dictionary(command: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for entry in properties {
            guard let separator = entry.firstIndex(of: "="), separator != entry.startIndex else {
                throw CommandFailure.usage(command, "-X expects key=value, got '\(entry)'")
            }
            result[String(entry[..<separator])] = String(entry[entry.index(after: separator)...])
        }
        return result
    }
}

/// The shared Kafka connection options: `--brokers` and `-X key=value`.
struct KafkaOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Bootstrap brokers, host:port[,host:port...].", valueName: "host:port"))
    var brokers: String

    @OptionGroup
    var librdkafka: LibrdkafkaPropertyOptions
}

/// A failure reported as one line on stderr with a chosen exit code: 2 for bad usage or input,
/// 1 for runtime and broker failures.
enum CommandFailure: Error {
    case usage(String, String)
    case runtime(String, String)

    /// Prints the one-line message and returns the exit code to throw.
    func report() -> ExitCode {
        switch self {
        case .usage(let command, let message):
            printError("projector \(command): error: \(message)")
            return ExitCode(ExitStatus.usage)
        case .runtime(let command, let message):
            printError("projector \(command): error: \(message)")
            return ExitCode(ExitStatus.runtime)
        }
    }
}

/// Runs `body`, turning a ``CommandFailure`` into its one-line message and exit code.
func reportingFailures(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let failure as CommandFailure {
        throw failure.report()
    }
}

/// Writes one line to stderr.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// The message of a ``KafkaError``, or the description of any other error.
func describeFailure(_ error: any Error) -> String {
    (error as? KafkaError)?.message ?? "\(error)"
}
