public import KafkaClient
import Synchronization

/// A started in-process mock Kafka cluster for tests, handing out unique topic and group names so
/// tests can run in parallel without seeing each other's data.
///
/// ```swift
/// let fixture = try MockClusterFixture()
/// let topic = try fixture.makeTopic(partitions: 6)
/// var configuration = fixture.consumerConfiguration(groupID: fixture.makeGroupID())
/// ```
///
/// Group tests are slow on librdkafka 2.0.2's mock (a new group waits about 3 s before the first
/// assignment); ``consumerConfiguration(groupID:)`` sets short session and heartbeat intervals.
public final class MockClusterFixture: Sendable {
    /// The cluster.
    public let cluster: MockCluster
    private let counter = Atomic<Int>(0)
    private let prefix: String

    /// Starts a cluster of `brokerCount` brokers.
    public init(brokerCount: Int = 3) throws {
        cluster = try MockCluster(brokerCount: brokerCount)
        prefix = "t\(UInt32.random(in: 0 ... .max))"
    }

    /// The bootstrap address list.
    public var bootstrapServers: String { cluster.bootstrapServers }

    /// A name no other call returns: `<prefix>-<random>-<n>`.
    public func makeName(_ prefix: String) -> String {
        "\(prefix)-\(self.prefix)-\(counter.add(1, ordering: .relaxed).newValue)"
    }

    /// Creates a topic with a unique name and returns the name.
    public func makeTopic(_ prefix: String = "topic", partitions: Int = 3) throws -> String {
        let name = makeName(prefix)
        try cluster.createTopic(name, partitions: partitions)
        return name
    }

    /// A unique consumer group id.
    public func makeGroupID(_ prefix: String = "group") -> String { makeName(prefix) }

    /// A consumer configuration for this cluster with test-friendly group timings
    /// (session 6 s, heartbeat 500 ms) and partition EOF reporting on.
    public func consumerConfiguration(groupID: String? = nil) -> KafkaConsumerConfiguration {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: bootstrapServers, groupID: groupID)
        configuration.sessionTimeout = .seconds(6)
        configuration.heartbeatInterval = .milliseconds(500)
        configuration.isPartitionEOFEnabled = true
        return configuration
    }

    /// A producer configuration for this cluster (idempotent, 1 ms linger).
    public func producerConfiguration() -> KafkaProducerConfiguration {
        var configuration = KafkaProducerConfiguration(bootstrapServers: bootstrapServers)
        configuration.linger = .milliseconds(1)
        return configuration
    }
}
