public import Logging

/// How a worker consumes: the cluster, the group, librdkafka properties and when to stop.
public struct WorkerConfiguration: Sendable {
    /// The bootstrap servers, `host:port[,host:port]`.
    /// librdkafka: bootstrap.servers
    public var brokers: String
    /// The consumer group; `nil` means `projector.<pipeline name>`.
    /// librdkafka: group.id
    public var groupID: String?
    /// librdkafka properties passed through unchanged (`-X key=value`); they win over defaults.
    public var properties: [String: String]
    /// Stop once every assigned partition reaches the high watermark seen when it was assigned.
    public var exitsAtEnd: Bool
    /// The most messages in one batch (one store transaction).
    public var maxBatchMessages: Int
    /// How long one poll waits for the first message of a batch.
    public var pollTimeout: Duration
    /// How long the worker waits for the cluster's first answer (its metadata) when it starts,
    /// before it fails with a clear error instead of hanging on an unreachable cluster.
    public var connectTimeout: Duration = .seconds(15)
    /// Where the worker logs (rebalances, skipped events, broker errors), with the pipeline, topic
    /// and partition as metadata. The library never prints by itself: the application bootstraps
    /// swift-log's `LoggingSystem`, or passes a logger with its own handler.
    public var logger = Logger(label: "projector.runtime")
    /// Where the worker reports its counters, durations, lag and partition status (an `--http`
    /// server reads them); `nil` measures nothing.
    public var metrics: RuntimeMetrics?

    /// Creates a configuration with the documented defaults: 10,000 messages per batch, 100 ms polls.
    public init(
        brokers: String, groupID: String? = nil, properties: [String: String] = [:],
        exitsAtEnd: Bool = false, maxBatchMessages: Int = 10_000, pollTimeout: Duration = .milliseconds(100)
    ) {
        self.brokers = brokers
        self.groupID = groupID
        self.properties = properties
        self.exitsAtEnd = exitsAtEnd
        self.maxBatchMessages = maxBatchMessages
        self.pollTimeout = pollTimeout
    }
}
