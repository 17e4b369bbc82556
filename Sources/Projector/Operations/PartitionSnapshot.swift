/// One assigned partition of a running pipeline, as `/metrics` and `/readyz` see it.
public struct PartitionSnapshot: Sendable {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The next offset the pipeline will apply (its stored checkpoint).
    public var checkpoint: Int64
    /// The high watermark librdkafka last learned from fetch responses (no request per scrape).
    /// Under `read_committed` an open transaction's records count until they commit or abort:
    /// librdkafka 2.0.2 has no call for the last stable offset.
    public var endOffset: Int64?
    /// Records not yet applied: end offset minus checkpoint, never negative, 0 when caught up.
    public var lagRecords: Int64
    /// The age of the oldest record not yet applied, from its timestamp; 0 when caught up.
    public var lagSeconds: Double
    /// The timestamp of the last applied record, in seconds since the Unix epoch.
    public var lastAppliedTimestamp: Double?
    /// Burrow's status of the partition.
    public var status: PartitionStatus
}

/// What one running pipeline did so far, copied out under its lock for a scrape or a probe.
public struct PipelineSnapshot: Sendable {
    /// The pipeline name.
    public var pipeline: String
    /// Event counts per topic, in `EventOutcome.allCases` order. A batch mixing several topics
    /// of a multi-topic pipeline counts under the topic `*` (the plan counts per batch, not per topic).
    public var events: [String: [UInt64]]
    /// Batches committed.
    public var batches: UInt64
    /// How long applying a batch took (projection and store transaction).
    public var batchDuration: DurationHistogram
    /// How long the store's commit of a batch took.
    public var commitDuration: DurationHistogram
    /// The assigned partitions, ordered by topic and partition.
    public var partitions: [PartitionSnapshot]
    /// Whether the consumer has its assignment (the latest rebalance event was an assignment).
    public var isAssigned: Bool
    /// Rebalances (assignments) seen.
    public var rebalances: UInt64
    /// How long ago the worker loop last polled, or nil before its first poll.
    public var sinceLastPoll: Duration?
    /// Whether a polled batch is being applied right now.
    public var isBatchInFlight: Bool
    /// Whether the worker is running (started and not yet stopped).
    public var isRunning: Bool
    /// librdkafka's latest statistics, when `statistics.interval.ms` is set.
    public var kafka: KafkaStatistics?
}
