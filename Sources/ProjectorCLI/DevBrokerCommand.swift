import ArgumentParser
import Foundation
import KafkaClient
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `projector dev-broker`: an in-process Kafka mock cluster on loopback for development and demos.
struct DevBrokerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-broker",
        abstract: "Run a local mock Kafka cluster (librdkafka's mock) until SIGINT or SIGTERM.",
        discussion: """
        Prints the bootstrap address list (127.0.0.1:PORT[,...]) as the first line of stdout, then serves until interrupted, and exits 0.

        The mock speaks the real Kafka protocol but keeps only about 5 MiB per partition: older records are dropped, so use more partitions for big runs. It auto-creates any topic a Metadata request names (with 4 partitions; Projector's commands never name a topic that way) but cannot create topics on request (CreateTopics): give them with --topic. It holds a new consumer group about 3 s before its first assignment.

        Examples:
          projector dev-broker
          projector dev-broker --count 3 --topic orders:6 --topic payments:2

        --count is the number of brokers; --brokers N is its old spelling and still works (every other \
        command's --brokers is an address list, hence the new name).
          projector dev-broker --topic orders:12 > broker.txt &
        """
    )

    @Option(help: "The number of brokers (default 3).")
    var count: Int?

    /// The old spelling of `--count`, kept so existing scripts run unchanged.
    @Option(help: ArgumentHelp("The old spelling of --count.", visibility: .hidden))
    var brokers: Int?

    func validate() throws {
        if count != nil && brokers != nil { throw ValidationError("Give --count or its old spelling --brokers, not both.") }
    }

    @Option(name: .customLong("topic"), help: ArgumentHelp("Create a topic with that many partitions (repeatable; default 1 partition).", valueName: "name[:partitions]"))
    var topics: [String] = []

    @OptionGroup
    var librdkafka: LibrdkafkaPropertyOptions

    func run() throws {
        try reportingFailures {
            let brokers = count ?? self.brokers ?? 3
            guard (1 ... 64).contains(brokers) else {
                throw CommandFailure.usage("dev-broker", "--count must be between 1 and 64, got \(brokers)")
            }
            let topics = try self.topics.map(Self.parseTopic)
            let properties = try librdkafka.dictionary(command: "dev-broker")

            // Block the stop signals before librdkafka starts its threads (they inherit the mask),
            // so that only sigwait below receives them.
            var stopSignals = sigset_t()
            sigemptyset(&stopSignals)
            sigaddset(&stopSignals, SIGINT)
            sigaddset(&stopSignals, SIGTERM)
            pthread_sigmask(SIG_BLOCK, &stopSignals, nil)
            signal(SIGPIPE, SIG_IGN)

            let cluster: MockCluster
            do {
                cluster = try MockCluster(brokerCount: brokers, properties: properties)
                for (name, partitions) in topics {
                    try cluster.createTopic(name, partitions: partitions)
                }
            } catch {
                throw CommandFailure.usage("dev-broker", describeFailure(error))
            }
            // Unbuffered, so a parent reading the first line sees it at once.
            FileHandle.standardOutput.write(Data((cluster.bootstrapServers + "\n").utf8))
            let described = topics.map { "\($0.name):\($0.partitions)" }.joined(separator: " ")
            printError("projector dev-broker: \(brokers) broker(s) at \(cluster.bootstrapServers)"
                + (described.isEmpty ? "" : ", topics \(described)") + "; stop with Ctrl-C")

            var received: Int32 = 0
            sigwait(&stopSignals, &received)
            printError("projector dev-broker: stopping")
            withExtendedLifetime(cluster) {}
        }
    }

    /// Parses `name[:partitions]`.
    static func parseTopic(_ text: String) throws -> (name: String, partitions: Int) {
        var name = Substring(text)
        var partitions = 1
        if let colon = text.lastIndex(of: ":") {
            name = text[..<colon]
            guard let count = Int(text[text.index(after: colon)...]), count > 0 else {
                throw CommandFailure.usage("dev-broker", "--topic expects name[:partitions] with partitions > 0, got '\(text)'")
            }
            partitions = count
        }
        guard !name.isEmpty else {
            throw CommandFailure.usage("dev-broker", "--topic expects name[:partitions], got '\(text)'")
        }
        return (String(name), partitions)
    }
}
