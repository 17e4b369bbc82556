internal import CRdKafka

/// Cluster metadata and topic administration.
///
/// ```swift
/// let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers)
/// try admin.createTopics([.init(name: "orders", partitions: 6)], timeout: .seconds(10))
/// let orders = try admin.metadata(topics: ["orders"], timeout: .seconds(5)).topic(named: "orders")
/// ```
///
/// Looking never creates: ``metadata(topics:timeout:)`` asks the cluster for every topic, because a
/// Metadata request that names a topic makes a broker with `auto.create.topics.enable=true`
/// (Apache Kafka's default, and librdkafka's mock) create it with its default layout.
///
/// - Important: Every method blocks on the network; never call them on Swift's cooperative pool.
public final class KafkaAdmin: @unchecked Sendable {
    // @unchecked Sendable: librdkafka's admin and metadata calls are thread-safe; each call uses its own result queue.
    private let handle: OpaquePointer

    /// Creates an admin client.
    ///
    /// Its handle has `allow.auto.create.topics=false` (a producer handle's default is `true`), so
    /// that nothing it does asks a broker to create a topic.
    /// - Parameters:
    ///   - bootstrapServers: `host:port[,host:port...]` (librdkafka: bootstrap.servers).
    ///   - additionalProperties: any other librdkafka properties.
    /// - Throws: ``KafkaError`` `_INVALID_ARG` naming a rejected property.
    public init(bootstrapServers: String, additionalProperties: [String: String] = [:]) throws(KafkaError) {
        let properties = [("bootstrap.servers", bootstrapServers), ("allow.auto.create.topics", "false")]
            + additionalProperties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        handle = try makeNativeHandle(RD_KAFKA_PRODUCER, try makeNativeConfiguration(properties, for: RD_KAFKA_PRODUCER))
    }

    deinit { rd_kafka_destroy(handle) }

    /// The brokers and topics of the cluster, or of `topics` only (those the cluster has; a topic
    /// it lacks is left out).
    ///
    /// Never creates a topic: the request asks for every topic and the answer is filtered here.
    /// (A request naming topics would make brokers with `auto.create.topics.enable=true` create the
    /// missing ones, whatever the client's `allow.auto.create.topics`, on brokers before 0.11 and on
    /// librdkafka 2.0.2's mock.)
    /// - Throws: ``KafkaError`` (`_TIMED_OUT` if no broker answers within `timeout`).
    public func metadata(topics: [String]? = nil, timeout: Duration) throws(KafkaError) -> KafkaClusterMetadata {
        try readNativeMetadata(handle, topics: topics, timeout: timeout)
    }

    /// Creates topics (`rd_kafka_CreateTopics`).
    ///
    /// librdkafka 2.0.2's mock cluster advertises no controller, so against it this times out
    /// ("waiting for controller"): create mock topics with ``MockCluster/createTopic(_:partitions:replicationFactor:)``.
    /// - Throws: ``KafkaError`` for the first topic that could not be created, naming it
    ///   (`TOPIC_ALREADY_EXISTS` if it exists).
    public func createTopics(_ topics: [KafkaNewTopic], timeout: Duration) throws(KafkaError) {
        var errorText = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
        for topic in topics {
            guard let newTopic = rd_kafka_NewTopic_new(topic.name, Int32(topic.partitions), Int32(topic.replicationFactor), &errorText, errorText.count) else {
                throw KafkaError(code: .invalidArgument, message: "creating topic \(topic.name) failed: \(string(fromErrorBuffer: errorText))", topic: topic.name)
            }
            for (key, value) in topic.configuration.sorted(by: { $0.key < $1.key }) {
                try KafkaError.check(rd_kafka_NewTopic_set_config(newTopic, key, value), while: "setting \(key) on new topic \(topic.name)")
            }
            newTopics.append(newTopic)
        }
        try runNativeAdminRequest(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout: timeout, operation: "creating topics") { options, queue in
            newTopics.withUnsafeMutableBufferPointer { rd_kafka_CreateTopics(handle, $0.baseAddress, $0.count, options, queue) }
        } results: { event in
            var count = 0
            let results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count)
            return UnsafeBufferPointer(start: results, count: count).map { $0! }
        }
    }

    /// Creates one topic after looking at the cluster: a topic it already has, or a cluster that
    /// advertises no controller (so could only let `CreateTopics` time out), fails at once.
    /// - Parameters:
    ///   - name: the topic's name.
    ///   - partitions: how many partitions it gets.
    ///   - replicationFactor: replicas per partition; `nil` means 3, or the number of brokers when fewer.
    ///   - timeout: how long to wait for the metadata and for the controller's answer.
    /// - Returns: the replication factor used.
    /// - Throws: ``KafkaError`` naming the topic: `TOPIC_ALREADY_EXISTS`, `NOT_CONTROLLER` (e.g.
    ///   librdkafka 2.0.2's mock), or what ``createTopics(_:timeout:)`` throws.
    @discardableResult
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int? = nil, timeout: Duration) throws(KafkaError) -> Int {
        let cluster = try metadata(timeout: timeout)
        if let existing = cluster.topic(named: name) {
            throw KafkaError(code: .topicAlreadyExists, message: "topic \(name) already exists with \(existing.partitions.count) partition(s)",
                             topic: name)
        }
        guard cluster.controllerID != nil else {
            throw KafkaError(code: .notController, message: "creating topic \(name) failed: the cluster advertises no controller, "
                + "so it cannot create topics on request (librdkafka's mock cluster does not)", topic: name)
        }
        let replicas = replicationFactor ?? min(3, max(1, cluster.brokers.count))
        try createTopics([KafkaNewTopic(name: name, partitions: partitions, replicationFactor: replicas)], timeout: timeout)
        return replicas
    }

    /// Deletes topics (`rd_kafka_DeleteTopics`). Like ``createTopics(_:timeout:)``, not answered by the 2.0.2 mock.
    /// - Throws: ``KafkaError`` for the first topic that could not be deleted, naming it.
    public func deleteTopics(_ names: [String], timeout: Duration) throws(KafkaError) {
        var deleteTopics: [OpaquePointer?] = names.map { rd_kafka_DeleteTopic_new($0) }
        defer { for topic in deleteTopics { rd_kafka_DeleteTopic_destroy(topic) } }
        try runNativeAdminRequest(handle, RD_KAFKA_ADMIN_OP_DELETETOPICS, timeout: timeout, operation: "deleting topics") { options, queue in
            deleteTopics.withUnsafeMutableBufferPointer { rd_kafka_DeleteTopics(handle, $0.baseAddress, $0.count, options, queue) }
        } results: { event in
            var count = 0
            let results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event), &count)
            return UnsafeBufferPointer(start: results, count: count).map { $0! }
        }
    }
}

/// A topic to create with ``KafkaAdmin/createTopics(_:timeout:)``.
public struct KafkaNewTopic: Sendable {
    /// The topic name.
    public var name: String
    /// The number of partitions.
    public var partitions: Int
    /// The number of replicas per partition.
    public var replicationFactor: Int
    /// Topic configuration (e.g. `cleanup.policy`).
    public var configuration: [String: String]

    /// Creates a topic description.
    public init(name: String, partitions: Int, replicationFactor: Int = 1, configuration: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configuration = configuration
    }
}

/// Brokers and topics of a cluster.
public struct KafkaClusterMetadata: Sendable {
    /// A broker.
    public struct Broker: Sendable, Hashable {
        /// The broker id.
        public var id: Int32
        /// Its advertised host.
        public var host: String
        /// Its advertised port.
        public var port: Int
    }

    /// A partition of a topic.
    public struct Partition: Sendable, Hashable {
        /// The partition number.
        public var id: Int32
        /// The leader broker id, or -1.
        public var leader: Int32
        /// The replica broker ids.
        public var replicas: [Int32]
        /// The partition's error, if any.
        public var error: KafkaError.Code?
    }

    /// A topic.
    public struct Topic: Sendable, Hashable {
        /// The topic name.
        public var name: String
        /// Its partitions, by id.
        public var partitions: [Partition]
        /// The topic's error (e.g. `UNKNOWN_TOPIC_OR_PART`), if any.
        public var error: KafkaError.Code?
    }

    /// The brokers.
    public var brokers: [Broker]
    /// The topics.
    public var topics: [Topic]
    /// The broker id of the controller, which creates and deletes topics; `nil` when the cluster
    /// advertises none of its brokers as controller (librdkafka 2.0.2's mock, or a broker before
    /// 0.10): then ``KafkaAdmin/createTopics(_:timeout:)`` can only time out.
    public var controllerID: Int32?

    /// The topic named `name` if the cluster has it: listed, and not `UNKNOWN_TOPIC_OR_PART`.
    public func topic(named name: String) -> Topic? {
        topics.first { $0.name == name && $0.error != .unknownTopic }
    }
}
