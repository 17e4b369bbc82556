internal import Foundation
internal import Logging
internal import Synchronization
package import KafkaClient
internal import ProjectorModel

/// One worker's measurements: counters, histograms and per-partition progress.
///
/// The worker updates it once per poll and once per batch (never per message), under one lock;
/// readers (a scrape, a probe) copy a ``PipelineSnapshot`` out. Partition status changes are
/// logged by whichever side notices them first, so a wedged worker is reported by the scrape.
public final class PipelineMetrics: Sendable {
    /// The pipeline name.
    public let pipeline: String
    private let rule: PartitionStatusRule
    private let logger: Logger
    private let state = Mutex(State())

    struct PartitionState {
        var checkpoint: Int64
        var endOffset: Int64?
        /// The timestamp (ms) of the oldest record seen and not yet applied.
        var pendingSince: Int64?
        /// The timestamp (ms) of the last applied record.
        var lastApplied: Int64?
        var movedAt: ContinuousClock.Instant
        var windowStart: ContinuousClock.Instant
        /// The lag at the start of the current window, once the end offset was known then.
        var windowLag: Int64?
        var previousLag: Int64?
        var rewoundAt: ContinuousClock.Instant?
        var status: PartitionStatus = .ok

        var lag: Int64 { max(0, (endOffset ?? checkpoint) - checkpoint) }
    }

    struct State {
        var events: [String: [UInt64]] = [:]
        var batches: UInt64 = 0
        var batchDuration = DurationHistogram()
        var commitDuration = DurationHistogram()
        var partitions: [KafkaTopicPartition: PartitionState] = [:]
        var isAssigned = false
        var rebalances: UInt64 = 0
        var lastPoll: ContinuousClock.Instant?
        var inFlight = false
        var isRunning = false
        /// The end offsets librdkafka last learned from fetches, read without a request; set
        /// while the consumer is open, so a scrape sees new records even while a batch is stuck.
        var endOffsets: (@Sendable (KafkaTopicPartition) -> Int64?)?
        var statistics: KafkaStatistics?
    }

    init(pipeline: String, stallAfter: Duration, logger: Logger) {
        self.pipeline = pipeline
        self.rule = PartitionStatusRule(window: stallAfter)
        var logger = logger
        logger[metadataKey: "pipeline"] = .string(pipeline)
        self.logger = logger
    }

    /// The current state, with partition statuses brought up to date.
    public func snapshot() -> PipelineSnapshot {
        let now = ContinuousClock.now
        let wallMilliseconds = Int64(Date().timeIntervalSince1970 * 1000)
        let (snapshot, changes) = state.withLock { state in
            Self.refreshEnds(&state)
            let changes = Self.refresh(&state, rule: rule, now: now)
            let partitions = state.partitions.sorted { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }
                .map { key, value in
                    let lag = value.lag
                    let oldest = value.pendingSince ?? value.lastApplied
                    let seconds = lag == 0 ? 0 : oldest.map { max(0, Double(wallMilliseconds - $0) / 1000) } ?? 0
                    return PartitionSnapshot(
                        topic: key.topic, partition: key.partition, checkpoint: value.checkpoint, endOffset: value.endOffset,
                        lagRecords: lag, lagSeconds: seconds, lastAppliedTimestamp: value.lastApplied.map { Double($0) / 1000 },
                        status: value.status)
                }
            let snapshot = PipelineSnapshot(
                pipeline: pipeline, events: state.events, batches: state.batches, batchDuration: state.batchDuration,
                commitDuration: state.commitDuration, partitions: partitions, isAssigned: state.isAssigned,
                rebalances: state.rebalances, sinceLastPoll: state.lastPoll.map { now - $0 }, isBatchInFlight: state.inFlight,
                isRunning: state.isRunning, kafka: state.statistics)
            return (snapshot, changes)
        }
        log(changes)
        return snapshot
    }

    // MARK: - Worker side

    package func started() { state.withLock { $0.isRunning = true } }

    package func stopped() { state.withLock { $0.isRunning = false; $0.isAssigned = false; $0.partitions = [:] } }

    /// Lets scrapes read end offsets from the open consumer; nil detaches it before it closes.
    package func attach(endOffsets: (@Sendable (KafkaTopicPartition) -> Int64?)?) {
        state.withLock { $0.endOffsets = endOffsets }
    }

    /// librdkafka emitted its statistics (every `statistics.interval.ms`, on the worker thread).
    package func received(statistics json: String) {
        guard let statistics = KafkaStatistics(json: json) else { return }
        state.withLock { $0.statistics = statistics }
    }

    /// A rebalance assigned `starts` (partition → next offset).
    func assigned(_ starts: [KafkaTopicPartition: Int64]) {
        let now = ContinuousClock.now
        state.withLock { state in
            state.isAssigned = true
            state.rebalances += 1
            for (partition, next) in starts {
                state.partitions[partition] = PartitionState(checkpoint: next, movedAt: now, windowStart: now)
            }
        }
    }

    /// A rebalance is taking `partitions` away.
    func revoked(_ partitions: [KafkaTopicPartition]) {
        state.withLock { state in
            state.isAssigned = false
            for partition in partitions { state.partitions[partition] = nil }
        }
    }

    /// The loop polled: its heartbeat for the liveness probe and the `stop` rule.
    func polled() {
        let now = ContinuousClock.now
        let changes = state.withLock { state in
            state.lastPoll = now
            Self.refreshEnds(&state)
            return Self.refresh(&state, rule: rule, now: now)
        }
        log(changes)
    }

    /// A polled batch is about to be applied; `oldest` gives each partition's first record timestamp (ms).
    func willApply(oldest: [(partition: KafkaTopicPartition, timestamp: Int64?)]) {
        state.withLock { state in
            state.inFlight = true
            for (partition, timestamp) in oldest where state.partitions[partition]?.pendingSince == nil {
                state.partitions[partition]?.pendingSince = timestamp
            }
        }
    }

    /// A batch was applied (or failed, with `outcome` nil).
    func didApply(_ outcome: AppliedBatch?) {
        let now = ContinuousClock.now
        state.withLock { state in
            state.inFlight = false
            guard let outcome else { return }
            state.batches += 1
            state.batchDuration.observe(outcome.duration)
            state.commitDuration.observe(outcome.commitDuration)
            var counts = state.events[outcome.topic] ?? Array(repeating: 0, count: EventOutcome.allCases.count)
            for (index, count) in outcome.counts.enumerated() { counts[index] += count }
            state.events[outcome.topic] = counts
            for (partition, next, lastTimestamp) in outcome.reached {
                guard var partitionState = state.partitions[partition] else { continue }
                if next != partitionState.checkpoint { partitionState.movedAt = now }
                partitionState.checkpoint = next
                partitionState.pendingSince = nil
                partitionState.lastApplied = lastTimestamp ?? partitionState.lastApplied
                if let end = partitionState.endOffset, end < next { partitionState.endOffset = next }
                state.partitions[partition] = partitionState
            }
        }
    }

    /// The worker moved `partition` to `next` because the store says so; `isOurs` is false when
    /// another process rewrote the checkpoint (a reset that was not a rebuild of ours).
    func moved(_ partition: KafkaTopicPartition, to next: Int64, isOurs: Bool) {
        let now = ContinuousClock.now
        state.withLock { state in
            guard var partitionState = state.partitions[partition] else { return }
            if next < partitionState.checkpoint && !isOurs { partitionState.rewoundAt = now }
            if next != partitionState.checkpoint { partitionState.movedAt = now }
            partitionState.checkpoint = next
            partitionState.pendingSince = nil
            state.partitions[partition] = partitionState
        }
    }

    // MARK: - Status

    private struct Change {
        var partition: KafkaTopicPartition
        var from: PartitionStatus
        var to: PartitionStatus
        var lag: Int64
    }

    private static func refreshEnds(_ state: inout State) {
        guard let endOffsets = state.endOffsets else { return }
        for partition in state.partitions.keys {
            if let end = endOffsets(partition) { state.partitions[partition]?.endOffset = end }
        }
    }

    private static func refresh(_ state: inout State, rule: PartitionStatusRule, now: ContinuousClock.Instant) -> [Change] {
        var changes: [Change] = []
        let sincePoll = state.lastPoll.map { now - $0 } ?? .zero
        for (partition, var value) in state.partitions {
            let lag = value.lag
            if now - value.windowStart >= rule.window {
                value.previousLag = value.windowLag
                value.windowLag = value.endOffset == nil ? nil : lag
                value.windowStart = now
            }
            let status = rule.status(
                lag: lag, previousLag: value.previousLag, sinceMove: now - value.movedAt, sincePoll: sincePoll,
                batchInFlight: state.inFlight, sinceRewind: value.rewoundAt.map { now - $0 })
            if status != value.status { changes.append(Change(partition: partition, from: value.status, to: status, lag: lag)) }
            value.status = status
            state.partitions[partition] = value
        }
        return changes
    }

    private func log(_ changes: [Change]) {
        for change in changes {
            let level: Logger.Level = [.stall, .stop, .rewind].contains(change.to) ? .warning : .info
            logger.log(level: level,
                       "pipeline \(pipeline): \(change.partition.topic) partition \(change.partition.partition) is \(change.to) (was \(change.from), lag \(change.lag))",
                       metadata: ["topic": .string(change.partition.topic), "partition": .stringConvertible(change.partition.partition),
                                  "status": .string(change.to.rawValue)])
        }
    }
}

/// What the worker tells ``PipelineMetrics`` about one applied batch.
struct AppliedBatch {
    /// The topic the counts belong to (`*` for a batch mixing topics).
    var topic: String
    /// Counts in ``EventOutcome/allCases`` order.
    var counts: [UInt64]
    /// Per partition: the next offset reached and the timestamp (ms) of its last applied record.
    var reached: [(partition: KafkaTopicPartition, next: Int64, lastTimestamp: Int64?)]
    /// Projection plus transaction.
    var duration: Duration
    /// The store's commit.
    var commitDuration: Duration
}
