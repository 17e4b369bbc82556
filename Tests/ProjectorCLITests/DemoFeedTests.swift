import Foundation
import KafkaClient
import ProjectorTestSupport
import ProjectorTesting
import ProjectorTools
import Testing

/// `projector demo --brokers`: the producer of docker/compose.yaml, run against a real
/// Kafka-protocol broker.
@Suite("projector demo --brokers")
struct DemoFeedTests {
    /// Records per topic, summed over the partitions' high watermarks.
    static func records(_ topic: String, partitions: Int, fixture: MockClusterFixture) throws -> Int {
        let consumer = try KafkaConsumer(configuration: fixture.consumerConfiguration())
        var total = 0
        for partition in 0 ..< partitions {
            let marks = try consumer.watermarks(KafkaTopicPartition(topic: topic, partition: Int32(partition)), timeout: .seconds(5))
            total += Int(marks.high - marks.low)
        }
        return total
    }

    @Test("produces the generated stream to existing topics; the counts it reports are what the topics hold")
    func feeds() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        for topic in DemoFeed.topics { try fixture.cluster.createTopic(topic, partitions: 2) }
        let result = try ProjectorExecutable.run(["demo", "--brokers", fixture.bootstrapServers, "--events", "600", "--rate", "2000"])
        #expect(result.status == 0, "\(result.stderr)")
        var expected: [String: Int] = [:]
        for event in DemoStream(count: 600) { expected[event.topic, default: 0] += 1 }
        let summary = "demo feed: produced " + expected.sorted { $0.key < $1.key }.map { "\($0.value) to \($0.key)" }.joined(separator: ", ")
        #expect(result.stderr.contains(summary), "\(result.stderr)")
        for topic in DemoFeed.topics {
            #expect(try Self.records(topic, partitions: 2, fixture: fixture) == expected[topic, default: 0], "\(topic)")
        }
    }

    @Test("a missing topic: exit 1 naming it and the command that creates it; nothing sent")
    func missingTopic() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("orders", partitions: 2)
        let result = try ProjectorExecutable.run(["demo", "--brokers", fixture.bootstrapServers, "--events", "10"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("topic inventory does not exist at \(fixture.bootstrapServers); nothing was sent. To create it: "),
                "\(result.stderr)")
        #expect(result.stderr.contains("produce --brokers \(fixture.bootstrapServers) --topic inventory --create-topic"), "\(result.stderr)")
        #expect(try Self.records("orders", partitions: 2, fixture: fixture) == 0)
    }

    @Test("--rate without --brokers is bad usage", arguments: [["--rate", "10"], ["--brokers", "b:9092", "--rate", "0"]])
    func rateNeedsBrokers(_ arguments: [String]) throws {
        let result = try ProjectorExecutable.run(["demo"] + arguments)
        #expect(result.status == 2, "\(result.stderr)")
    }
}
