import ArgumentParser
import Foundation
import Logging
import Projector

/// The `projector` executable: keeps read models current from Kafka event streams.
struct ProjectorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projector",
        abstract: "Turn Kafka event streams into queryable read models.",
        discussion: """
        Exit codes, one rule for every command: 0 ok; 1 something outside the request failed (broker, \
        database) or a check found a difference (verify: different, test: a mismatch); 2 the request \
        cannot run as given — bad usage, an invalid pipeline, or views built (or swapped in by a \
        rebuild) by another definition; 3 an event error under on_error: fail (everything before it \
        is committed). A message that suggests a next step prints the command, ready to paste.
        """,
        subcommands: [
            DemoCommand.self, RunCommand.self, StatusCommand.self, DeadLetterCommand.self, ValidateCommand.self,
            DevBrokerCommand.self, ProduceCommand.self, RebuildCommand.self, VerifyCommand.self, ResetCommand.self,
            BenchCommand.self, TestCommand.self, ServeCommand.self,
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
