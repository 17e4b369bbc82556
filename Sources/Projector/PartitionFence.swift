internal import KafkaClient
internal import Pipelines
internal import Views
internal import ProjectorModel

/// The optimistic-concurrency fence of a worker's batch: inside the batch transaction, under the
/// store's write lock, every partition of the batch must still have the stored checkpoint this
/// worker believes it owns. Otherwise another member of the group took the partition over (a
/// rebalance this worker has not seen yet, e.g. it stalled past the session timeout) and the batch
/// is rolled back instead of applied twice.
///
/// - Important: Runs on the worker thread, inside ``BatchApplier/apply(_:check:)``.
struct PartitionFence {
    /// Thrown from the check: nothing of the batch was written.
    struct Overtaken: Error {
        /// The batch's partitions whose stored checkpoint is not where this worker expected it.
        var partitions: [KafkaTopicPartition]
        /// Why, for the log.
        var reason: String
    }

    /// Checks the batch's partitions against the worker's positions.
    /// - Parameters:
    ///   - messages: the batch.
    ///   - topics: the projection's topic names by index.
    ///   - positions: the next offset this worker expects per owned partition.
    ///   - isAssignmentLost: whether librdkafka already knows the assignment was lost.
    ///   - transaction: the open batch transaction.
    static func check(
        _ messages: UnsafeBufferPointer<RawMessage>, topics: [String], positions: [KafkaTopicPartition: Int64],
        isAssignmentLost: Bool, transaction: inout any ViewTransaction
    ) throws {
        // First offset per partition of the batch; few partitions per batch, so a linear scan.
        var seen: [(topic: Int, partition: Int32, offset: Int64)] = []
        for message in messages where !seen.contains(where: { $0.topic == message.topic && $0.partition == message.partition }) {
            seen.append((message.topic, message.partition, message.offset))
        }
        let firsts = seen.map { (partition: KafkaTopicPartition(topic: topics[$0.topic], partition: $0.partition), offset: $0.offset) }
        if isAssignmentLost {
            throw Overtaken(partitions: firsts.map(\.partition), reason: "the group assignment was lost")
        }
        var overtaken: [KafkaTopicPartition] = []
        var reasons: [String] = []
        for (partition, first) in firsts {
            let stored = try transaction.checkpoint(topic: partition.topic, partition: partition.partition)
            guard let expected = positions[partition] else {
                overtaken.append(partition)
                reasons.append("\(partition.topic)/\(partition.partition) is no longer assigned to this worker")
                continue
            }
            if let stored, stored != expected {
                overtaken.append(partition)
                reasons.append("\(partition.topic)/\(partition.partition) is stored at \(stored), this worker expected \(expected)")
            } else if first < (stored ?? expected) {
                overtaken.append(partition)
                reasons.append("\(partition.topic)/\(partition.partition) batch starts at \(first), before the checkpoint \(stored ?? expected)")
            }
        }
        if !overtaken.isEmpty { throw Overtaken(partitions: overtaken, reason: reasons.joined(separator: "; ")) }
    }
}
