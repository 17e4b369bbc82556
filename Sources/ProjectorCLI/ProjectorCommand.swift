import ArgumentParser
import Foundation
import Logging
import Projector

/// The `projector` executable: keeps read models current from Kafka event streams.
struct ProjectorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projector",
        abstract: "Turn Kafka event streams into queryable read models.",
        discussion: "Exit codes: 0 ok, 1 runtime failure (broker, database), 2 bad usage or invalid pipeline, 3 an event error under on_error: fail.",
        subcommands: [
            DemoCommand.self, RunCommand.self, StatusCommand.self, DeadLetterCommand.self, ValidateCommand.self,
            DevBrokerCommand.self, ProduceCommand.self, RebuildCommand.self, VerifyCommand.self, ResetCommand.self,
            BenchCommand.self,
        ]
    )
}

/// The entry point: runs the command and maps argument errors to exit code 2 (bad usage).
@main
enum ProjectorMain {
    static func main() {
        do {
            var command = try ProjectorCommand.parseAsRoot()
            if let configured = command as? any ConfiguresLogging {
                configured.logging.bootstrap()
            } else {
                LoggingOptions.bootstrap(format: .text, level: .info)
            }
            try command.run()
        } catch let error as ProjectorError {
            exit(failure(error).rawValue)
        } catch {
            let code = ProjectorCommand.exitCode(for: error)
            let message = ProjectorCommand.fullMessage(for: error)
            if !message.isEmpty {
                if code == .success { print(message) } else { printError(message) }
            }
            exit(code == .validationFailure ? ExitStatus.usage : code.rawValue)
        }
    }
}
