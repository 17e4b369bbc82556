import ArgumentParser
import Foundation
import KafkaClient
import Projector

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

/// Topic lookups and deliberate topic creation for the commands that write to a topic (`bench`,
/// `produce`). Looking never creates a topic (``KafkaAdmin/metadata(topics:timeout:)`` asks for every
/// topic); creating is `CreateTopics` with a chosen layout.
struct TopicAdministration {
    /// Bootstrap servers.
    var brokers: String
    /// The `-X` librdkafka properties.
    var properties: [String: String]

    /// The partition count of `topic`, or `nil` when the cluster does not have it.
    /// - Throws: ``ProjectorError`` `.broker` when no broker answers.
    func partitionCount(of topic: String) throws(ProjectorError) -> Int? {
        do {
            return try admin().metadata(topics: [topic], timeout: .seconds(10)).topic(named: topic)?.partitions.count
        } catch {
            throw ProjectorError(code: .broker, message: "looking up topic \(topic) at \(brokers): \(error.message)")
        }
    }

    /// Creates `topic` with `partitions` partitions and a replication factor of 3 (the number of
    /// brokers on smaller clusters).
    /// - Returns: the replication factor used.
    /// - Throws: ``ProjectorError`` `.broker` naming the topic; at once, with the `dev-broker` command
    ///   line that has the topic, when the cluster advertises no controller (`projector dev-broker`).
    func create(_ topic: String, partitions: Int) throws(ProjectorError) -> Int {
        do {
            return try admin().createTopic(topic, partitions: partitions, timeout: .seconds(30))
        } catch where error.code == .notController {
            throw ProjectorError(
                code: .broker,
                message: "cannot create topic \(topic) at \(brokers): the cluster advertises no controller, so it creates no topic on "
                    + "request (the embedded broker is such a cluster); start one that has the topic: "
                    + shellCommand([CommandLine.arguments[0], "dev-broker", "--topic", "\(topic):\(partitions)"]))
        } catch {
            throw ProjectorError(code: .broker, message: "creating topic \(topic) with \(partitions) partition(s) at \(brokers): \(error.message)")
        }
    }

    private func admin() throws(KafkaError) -> KafkaAdmin {
        try KafkaAdmin(bootstrapServers: brokers, additionalProperties: ["log_level": "2"].merging(properties) { $1 })
    }
}

/// `arguments` as one line to paste into a POSIX shell: each argument that needs it single-quoted.
func shellCommand(_ arguments: [String]) -> String {
    arguments.map { argument in
        let plain = !argument.isEmpty && argument.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_./:=,@%+".unicodeScalars.contains($0)
        }
        return plain ? argument : "'" + argument.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }.joined(separator: " ")
}

/// This process's command line with `extra` arguments added, as one line to paste into a shell.
func commandLine(adding extra: [String]) -> String {
    shellCommand(CommandLine.arguments + extra)
}
