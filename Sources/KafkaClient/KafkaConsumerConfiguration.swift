/// Configuration of a ``KafkaConsumer``: typed librdkafka properties with documented defaults,
/// plus ``additionalProperties`` for any other librdkafka property.
///
/// The defaults suit a batch consumer whose offsets live in its own store (Projector's checkpoints):
/// auto-commit and auto offset store are off, the consumer starts from the earliest offset when it has
/// nothing committed, and the local prefetch queue is sized so that librdkafka 2.0.2 keeps fetching
/// while a fast caller drains it (see ``queuedMinMessages``).
///
/// ```swift
/// var configuration = KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupID: "orders-view")
/// configuration.assignmentStrategy = .cooperativeSticky
/// configuration.additionalProperties["statistics.interval.ms"] = "0"
/// ```
public struct KafkaConsumerConfiguration: Sendable {
    /// Where a partition starts when the group has no committed offset.
    public enum AutoOffsetReset: String, Sendable {
        /// Start from the oldest offset still stored.
        case earliest
        /// Start after the newest record.
        case latest
        /// Fail with an `_AUTO_OFFSET_RESET` error on the partition.
        case error
    }

    /// How a consumer group shares partitions.
    public enum AssignmentStrategy: String, Sendable {
        /// Eager: every rebalance revokes all partitions, then assigns (`rd_kafka_assign`).
        case range
        /// Eager, round-robin over members (`rd_kafka_assign`).
        case roundRobin = "roundrobin"
        /// Incremental: only moved partitions are revoked or assigned (`rd_kafka_incremental_assign`).
        case cooperativeSticky = "cooperative-sticky"
    }

    /// Which records a consumer sees from transactional producers.
    public enum IsolationLevel: String, Sendable {
        /// Only records of committed transactions (and non-transactional records).
        case readCommitted = "read_committed"
        /// Every record, including those of aborted or open transactions.
        case readUncommitted = "read_uncommitted"
    }

    /// Brokers to bootstrap from, `host:port[,host:port...]`.
    /// librdkafka: bootstrap.servers
    public var bootstrapServers: String

    /// The consumer group, or nil for a consumer that only uses ``KafkaConsumer/assign(_:)``.
    /// A group is required for ``KafkaConsumer/subscribe(topics:)`` and group commits.
    /// Without one, a private `projector-assign-<random>` group id is set, because librdkafka's
    /// `rd_kafka_assign` needs a group handle; that group is never joined.
    /// librdkafka: group.id
    public var groupID: String?

    /// The client id shown in broker logs. Default `projector`.
    /// librdkafka: client.id
    public var clientID: String = "projector"

    /// Where to start without a committed offset. Default ``AutoOffsetReset/earliest``.
    /// librdkafka: auto.offset.reset
    public var autoOffsetReset: AutoOffsetReset = .earliest

    /// Whether librdkafka commits offsets in the background. Default `false`: commit explicitly.
    /// librdkafka: enable.auto.commit
    public var isAutoCommitEnabled: Bool = false

    /// Whether each consumed record's offset is stored for the next commit automatically. Default `false`.
    /// librdkafka: enable.auto.offset.store
    public var isAutoOffsetStoreEnabled: Bool = false

    /// Whether reaching the end of a partition is reported in the batch's ``KafkaRecordBatch/events``. Default `false`.
    /// librdkafka: enable.partition.eof
    public var isPartitionEOFEnabled: Bool = false

    /// The partition assignment strategy of the group. Default ``AssignmentStrategy/range`` (eager).
    /// librdkafka: partition.assignment.strategy
    public var assignmentStrategy: AssignmentStrategy = .range

    /// How long the group waits for a heartbeat before it drops the member. Default 45 s.
    /// librdkafka: session.timeout.ms
    public var sessionTimeout: Duration = .seconds(45)

    /// How often the member heartbeats to the coordinator. Default 3 s.
    /// librdkafka: heartbeat.interval.ms
    public var heartbeatInterval: Duration = .seconds(3)

    /// The longest time between two polls before the member leaves the group. Default 300 s.
    /// librdkafka: max.poll.interval.ms
    public var maxPollInterval: Duration = .seconds(300)

    /// The longest time the broker holds a fetch while waiting for ``fetchMinBytes``. Default 100 ms
    /// (librdkafka's own default is 500 ms; shorter keeps latency low when a topic is idle).
    /// librdkafka: fetch.wait.max.ms
    public var fetchWaitMax: Duration = .milliseconds(100)

    /// The least data a fetch response should hold. Default 1 byte.
    /// librdkafka: fetch.min.bytes
    public var fetchMinBytes: Int = 1

    /// The most data fetched per partition per request. Default 1 MiB.
    /// librdkafka: max.partition.fetch.bytes
    public var maxPartitionFetchBytes: Int = 1_048_576

    /// The number of records librdkafka tries to keep prefetched per partition. Default 1,000,000
    /// (librdkafka's default is 100,000).
    ///
    /// librdkafka 2.0.2 stops fetching a partition for up to one second once its local queue holds
    /// `queued.min.messages` records or `queued.max.messages.kbytes` bytes (librdkafka issue #2879;
    /// 2.1 made the pause configurable as `fetch.queue.backoff.ms`). A caller that drains faster than
    /// the threshold per second would then starve. So the record threshold is set high and the byte
    /// threshold (``queuedMaxMessagesKilobytes``, 64 MiB per partition) is the one that binds.
    /// librdkafka: queued.min.messages
    public var queuedMinMessages: Int = 1_000_000

    /// The most prefetched data per partition, in KiB. Default 65,536 (64 MiB).
    /// librdkafka: queued.max.messages.kbytes
    public var queuedMaxMessagesKilobytes: Int = 65_536

    /// Which transactional records to deliver. Default ``IsolationLevel/readCommitted``.
    /// librdkafka: isolation.level
    public var isolationLevel: IsolationLevel = .readCommitted

    /// Any other librdkafka property, applied after (and overriding) the typed ones.
    public var additionalProperties: [String: String] = [:]

    /// Receives librdkafka's statistics JSON every `statistics.interval.ms` (set that property;
    /// 0, the default, emits none). Called on the polling thread, inside `poll`.
    public var statisticsHandler: (@Sendable (String) -> Void)?

    /// Creates a configuration with the documented defaults.
    /// - Parameters:
    ///   - bootstrapServers: `host:port[,host:port...]` (librdkafka: bootstrap.servers).
    ///   - groupID: the consumer group, or nil for assign-only use (librdkafka: group.id).
    public init(bootstrapServers: String, groupID: String? = nil) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
    }

    /// The librdkafka properties in the order they are applied.
    var properties: [(key: String, value: String)] {
        var result: [(key: String, value: String)] = [
            ("bootstrap.servers", bootstrapServers),
            ("group.id", groupID ?? "projector-assign-\(UInt64.random(in: 0 ... .max))"),
            ("client.id", clientID),
            ("auto.offset.reset", autoOffsetReset.rawValue),
            ("enable.auto.commit", String(isAutoCommitEnabled)),
            ("enable.auto.offset.store", String(isAutoOffsetStoreEnabled)),
            ("enable.partition.eof", String(isPartitionEOFEnabled)),
            ("partition.assignment.strategy", assignmentStrategy.rawValue),
            ("session.timeout.ms", millisecondsProperty(sessionTimeout)),
            ("heartbeat.interval.ms", millisecondsProperty(heartbeatInterval)),
            ("max.poll.interval.ms", millisecondsProperty(maxPollInterval)),
            ("fetch.wait.max.ms", millisecondsProperty(fetchWaitMax)),
            ("fetch.min.bytes", String(fetchMinBytes)),
            ("max.partition.fetch.bytes", String(maxPartitionFetchBytes)),
            ("queued.min.messages", String(queuedMinMessages)),
            ("queued.max.messages.kbytes", String(queuedMaxMessagesKilobytes)),
            ("isolation.level", isolationLevel.rawValue),
        ]
        result += additionalProperties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return result
    }
}
