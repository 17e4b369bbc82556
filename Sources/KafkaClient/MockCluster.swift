internal import CRdKafka

/// An in-process Kafka cluster on loopback: librdkafka's mock cluster (`rdkafka_mock.h`), speaking the
/// real Kafka protocol, with fault controls for tests and for `projector dev-broker`.
///
/// ```swift
/// let cluster = try MockCluster(brokerCount: 3)
/// try cluster.createTopic("orders", partitions: 6)
/// let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers, groupID: "g"))
/// try cluster.setBrokerDown(2)   // fault injection
/// ```
///
/// Limits of librdkafka 2.0.2's mock, which tests must respect:
/// - it keeps only about 5 MiB per partition and drops older records (use more partitions for big runs);
/// - it holds a new consumer group about 3 s before the first assignment;
/// - it answers offsets-for-times with -1, so ``KafkaConsumer/offsets(forTimes:timeout:)`` returns nil;
/// - it hands aborted transactional records to `read_committed` consumers, and acknowledges offsets
///   sent to a transaction without storing them, so test transactions through the producer API;
/// - it advertises no controller, so `CreateTopics`/`DeleteTopics` admin requests time out: use
///   ``createTopic(_:partitions:replicationFactor:)``;
/// - it creates any topic a Metadata request names (its Metadata handler is too old to see
///   `allow.auto.create.topics=false`), e.g. a consumer's or producer's; ``KafkaAdmin/metadata(topics:timeout:)``
///   names none, so it sees a missing topic as missing. To make a topic fail for every client,
///   use ``setTopicError(_:_:)`` with ``KafkaError/Code/unknownTopic``.
///
/// Broker ids are 1 through ``brokerCount``.
public final class MockCluster: @unchecked Sendable {
    // @unchecked Sendable: every rd_kafka_mock_* call posts an operation to the mock's own thread and
    // waits for it, so the handle may be used from any thread (rdkafka_mock.h).
    private let owner: OpaquePointer
    private let cluster: OpaquePointer

    /// The bootstrap address list, `127.0.0.1:PORT[,127.0.0.1:PORT...]`.
    public let bootstrapServers: String
    /// The number of brokers.
    public let brokerCount: Int

    /// Starts a mock cluster of `brokerCount` brokers on loopback.
    /// - Parameters:
    ///   - brokerCount: the number of brokers (ids 1...brokerCount).
    ///   - properties: librdkafka properties for the client that owns the mock (e.g. `log_level`, `debug`).
    /// - Throws: ``KafkaError`` if a property is rejected or the mock cannot start.
    public init(brokerCount: Int = 3, properties: [String: String] = [:]) throws(KafkaError) {
        precondition(brokerCount > 0, "a mock cluster needs at least one broker")
        // The mock needs an owning client handle; its threads live as long as the cluster.
        let conf = try makeNativeConfiguration([("log_level", "3")] + properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, for: RD_KAFKA_PRODUCER)
        owner = try makeNativeHandle(RD_KAFKA_PRODUCER, conf)
        guard let cluster = rd_kafka_mock_cluster_new(owner, Int32(brokerCount)) else {
            rd_kafka_destroy(owner)
            throw KafkaError(code: .state, message: "starting the mock cluster failed. Check that loopback ports are available.")
        }
        self.cluster = cluster
        self.brokerCount = brokerCount
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(owner)
    }

    /// Creates a topic with `partitions` partitions.
    /// - Throws: ``KafkaError`` naming the topic.
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, while: "creating mock topic \(name)", topic: name)
        }
    }

    /// Makes a broker stop answering (its connections are closed) until ``setBrokerUp(_:)``.
    public func setBrokerDown(_ broker: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_broker_set_down(cluster, broker), while: "taking mock broker \(broker) down")
    }

    /// Brings a broker back after ``setBrokerDown(_:)``.
    public func setBrokerUp(_ broker: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_broker_set_up(cluster, broker), while: "bringing mock broker \(broker) up")
    }

    /// Delays every response of a broker by `rtt`.
    public func setRoundTripTime(_ rtt: Duration, broker: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_broker_set_rtt(cluster, broker, milliseconds(rtt)),
                             while: "setting the round-trip time of mock broker \(broker)")
    }

    /// Makes the next requests of type `apiKey` (to any broker) fail with `errors`, one per request, in order.
    public func pushRequestErrors(_ errors: [KafkaError.Code], for apiKey: KafkaAPIKey) {
        var native = errors.map { $0.native }
        rd_kafka_mock_push_request_errors_array(cluster, apiKey.rawValue, native.count, &native)
    }

    /// Drops errors pushed with ``pushRequestErrors(_:for:)`` that have not fired yet.
    public func clearRequestErrors(for apiKey: KafkaAPIKey) {
        rd_kafka_mock_clear_request_errors(cluster, apiKey.rawValue)
    }

    /// Makes every request about `topic` fail with `code` (`.noError` clears it).
    public func setTopicError(_ topic: String, _ code: KafkaError.Code) {
        rd_kafka_mock_topic_set_error(cluster, topic, code.native)
    }

    /// Moves the leadership of a partition to `broker`.
    public func setPartitionLeader(topic: String, partition: Int32, broker: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_partition_set_leader(cluster, topic, partition, broker),
                             while: "moving the leader of \(topic)/\(partition) to broker \(broker)")
    }

    /// Makes `broker` the coordinator of consumer group `group`.
    public func setGroupCoordinator(group: String, broker: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_coordinator_set(cluster, "group", group, broker),
                             while: "moving the coordinator of group \(group) to broker \(broker)")
    }

    /// Makes `broker` the coordinator of transactional id `transactionalID`.
    public func setTransactionCoordinator(transactionalID: String, broker: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_coordinator_set(cluster, "transaction", transactionalID, broker),
                             while: "moving the coordinator of transactional id \(transactionalID) to broker \(broker)")
    }
}

/// A Kafka protocol request type, for ``MockCluster/pushRequestErrors(_:for:)``.
public struct KafkaAPIKey: Hashable, Sendable {
    /// The protocol's ApiKey number.
    public let rawValue: Int16

    /// Creates an API key from its number.
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// Produce (0).
    public static let produce = KafkaAPIKey(rawValue: 0)
    /// Fetch (1).
    public static let fetch = KafkaAPIKey(rawValue: 1)
    /// ListOffsets (2).
    public static let listOffsets = KafkaAPIKey(rawValue: 2)
    /// Metadata (3).
    public static let metadata = KafkaAPIKey(rawValue: 3)
    /// OffsetCommit (8).
    public static let offsetCommit = KafkaAPIKey(rawValue: 8)
    /// OffsetFetch (9).
    public static let offsetFetch = KafkaAPIKey(rawValue: 9)
    /// FindCoordinator (10).
    public static let findCoordinator = KafkaAPIKey(rawValue: 10)
    /// JoinGroup (11).
    public static let joinGroup = KafkaAPIKey(rawValue: 11)
    /// Heartbeat (12).
    public static let heartbeat = KafkaAPIKey(rawValue: 12)
    /// SyncGroup (14).
    public static let syncGroup = KafkaAPIKey(rawValue: 14)
    /// InitProducerId (22).
    public static let initProducerID = KafkaAPIKey(rawValue: 22)
    /// AddPartitionsToTxn (24).
    public static let addPartitionsToTransaction = KafkaAPIKey(rawValue: 24)
    /// EndTxn (26).
    public static let endTransaction = KafkaAPIKey(rawValue: 26)
}
