internal import KafkaClient
internal import ProjectorModel

/// Measures one batch for ``PipelineMetrics`` with a single pass over its messages and scratch
/// storage kept across batches: the hot path neither allocates nor locks per message.
struct BatchMeter {
    let metrics: PipelineMetrics
    let topics: [String]
    /// Per partition of the current batch: topic index, partition, first and last timestamps.
    private var seen: [(topic: Int, partition: Int32, first: Int64?, last: Int64?)] = []
    private var started = ContinuousClock.now

    init(metrics: PipelineMetrics, topics: [String]) {
        self.metrics = metrics
        self.topics = topics
    }

    /// Notes the batch's oldest record per partition before it is applied.
    mutating func willApply(_ messages: [RawMessage]) {
        started = .now
        seen.removeAll(keepingCapacity: true)
        for message in messages {
            // Few partitions per batch: a linear scan beats hashing every message.
            if let index = seen.firstIndex(where: { $0.topic == message.topic && $0.partition == message.partition }) {
                seen[index].last = message.timestamp ?? seen[index].last
            } else {
                seen.append((message.topic, message.partition, message.timestamp, message.timestamp))
            }
        }
        metrics.willApply(oldest: seen.map { (KafkaTopicPartition(topic: topics[$0.topic], partition: $0.partition), $0.first) })
    }

    /// Records the applied batch, or a failed one with `outcome` nil.
    func didApply(_ outcome: BatchApplier.Outcome?) {
        guard let outcome else { return metrics.didApply(nil) }
        let firstTopic = seen.first?.topic ?? 0
        let topic = seen.allSatisfy({ $0.topic == firstTopic }) ? topics[firstTopic] : "*"
        let reached = outcome.checkpoints.map { checkpoint in
            (partition: KafkaTopicPartition(topic: checkpoint.topic, partition: checkpoint.partition), next: checkpoint.nextOffset,
             lastTimestamp: seen.first { topics[$0.topic] == checkpoint.topic && $0.partition == checkpoint.partition }?.last ?? nil)
        }
        metrics.didApply(AppliedBatch(
            topic: topic, counts: EventOutcome.counts(outcome.counters), reached: reached,
            duration: .now - started, commitDuration: outcome.commitDuration))
    }
}
