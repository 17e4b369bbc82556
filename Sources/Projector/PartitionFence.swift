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
/// A worker that claimed its partitions (epoch-fenced checkpoints, `ViewStore.claim`) is fenced
/// by the checkpoint write itself: ``advance(_:positions:epochs:transaction:)`` moves each
/// checkpoint only where the stored epoch is still the worker's and the stored offset the one the
/// batch started from; ``check(_:topics:positions:isAssignmentLost:transaction:)`` then skips its
/// read of the stored checkpoints.
///
/// - Important: Runs on the worker thread, inside ``BatchApplier/apply(_:check:)``.
struct PartitionFence {
    /// Thrown from the check: nothing of the batch was written.
    struct Overtaken: Error {
        /// The batch's partitions whose stored checkpoint is not where this worker expected it.
        var partitions: [KafkaTopicPartition]
        /// Why, for the log.
        var reason: String
        /// Whether another worker claimed the partitions (a higher epoch): this worker drops them
        /// until the group assigns them to it again, instead of reading them on.
        var isClaimLost = false
        /// Partitions still claimed by this worker whose offset was moved from outside (another
        /// process wrote the checkpoint without claiming it): the worker reads on from there.
        var movedOutside: [KafkaTopicPartition] = []
    }

    /// Checks the batch's partitions against the worker's positions.
    /// - Parameters:
    ///   - messages: the batch.
    ///   - topics: the projection's topic names by index.
    ///   - positions: the next offset this worker expects per owned partition.
    ///   - isAssignmentLost: whether librdkafka already knows the assignment was lost.
    ///   - transaction: the open batch transaction.
    ///   - isClaimed: whether the worker claimed its partitions (then ``advance(_:positions:epochs:transaction:)``
    ///     fences the write and the stored checkpoints are not read here).
    static func check(
        _ messages: UnsafeBufferPointer<RawMessage>, topics: [String], positions: [KafkaTopicPartition: Int64],
        isAssignmentLost: Bool, isClaimed: Bool = false, transaction: inout any ViewTransaction
    ) throws {
        // First offset per partition of the batch; few partitions per batch, in runs, so a linear
        // scan only where the run changes partition.
        var seen: [(topic: Int, partition: Int32, offset: Int64)] = []
        var current = -1
        for message in messages {
            if current >= 0 && seen[current].topic == message.topic && seen[current].partition == message.partition { continue }
            if let index = seen.firstIndex(where: { $0.topic == message.topic && $0.partition == message.partition }) {
                current = index
            } else {
                current = seen.count
                seen.append((message.topic, message.partition, message.offset))
            }
        }
        let firsts = seen.map { (partition: KafkaTopicPartition(topic: topics[$0.topic], partition: $0.partition), offset: $0.offset) }
        if isAssignmentLost {
            throw Overtaken(partitions: firsts.map(\.partition), reason: "the group assignment was lost")
        }
        var overtaken: [KafkaTopicPartition] = []
        var reasons: [String] = []
        for (partition, first) in firsts {
            guard let expected = positions[partition] else {
                overtaken.append(partition)
                reasons.append("\(partition.topic)/\(partition.partition) is no longer assigned to this worker")
                continue
            }
            let stored = isClaimed ? nil : try transaction.checkpoint(topic: partition.topic, partition: partition.partition)
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

    /// Moves the claimed checkpoints of the batch's partitions from `positions` to `checkpoints`,
    /// only where the stored epoch is still this worker's and the stored offset `positions`' one.
    /// - Throws: ``Overtaken`` (the caller's transaction then rolls back) naming the partitions
    ///   another worker claimed or moved since.
    static func advance(
        _ checkpoints: [Checkpoint], positions: [KafkaTopicPartition: Int64], epochs: [KafkaTopicPartition: Int64],
        transaction: inout any ViewTransaction
    ) throws {
        var claims: [PartitionClaim] = []
        var unclaimed: [KafkaTopicPartition] = []
        for checkpoint in checkpoints {
            let partition = KafkaTopicPartition(topic: checkpoint.topic, partition: checkpoint.partition)
            guard let epoch = epochs[partition], let from = positions[partition] else {
                unclaimed.append(partition)
                continue
            }
            claims.append(PartitionClaim(topic: checkpoint.topic, partition: checkpoint.partition, nextOffset: from, epoch: epoch))
        }
        if !unclaimed.isEmpty {
            throw Overtaken(partitions: unclaimed, reason: unclaimed.map { "\($0.topic)/\($0.partition) is not claimed by this worker" }
                .joined(separator: "; "))
        }
        let lost = try transaction.advanceCheckpoints(checkpoints, claims: claims)
        if !lost.isEmpty {
            let ours = Dictionary(claims.map { ("\($0.topic)/\($0.partition)", $0) }) { first, _ in first }
            var taken: [KafkaTopicPartition] = [], moved: [KafkaTopicPartition] = [], reasons: [String] = []
            for stored in lost {
                let partition = KafkaTopicPartition(topic: stored.topic, partition: stored.partition)
                let claim = ours["\(stored.topic)/\(stored.partition)"]
                if let claim, stored.epoch == claim.epoch {
                    moved.append(partition)
                    reasons.append("\(stored.topic)/\(stored.partition) was moved from \(claim.nextOffset) to \(stored.nextOffset) from outside")
                } else {
                    taken.append(partition)
                    reasons.append("\(stored.topic)/\(stored.partition) is no longer at epoch \(claim?.epoch ?? -1): another worker claimed it (epoch \(stored.epoch))")
                }
            }
            throw Overtaken(partitions: taken + moved, reason: reasons.joined(separator: "; "), isClaimLost: !taken.isEmpty, movedOutside: moved)
        }
    }
}
