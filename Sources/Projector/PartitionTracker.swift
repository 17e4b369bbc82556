internal import Foundation
internal import KafkaClient
package import Views
package import ProjectorModel

/// The worker's rebalance hook: claims every assigned partition in the store (epoch-fenced
/// checkpoints: epoch + 1, owner = this worker), starts it at the checkpoint stored with the views
/// (earliest when none), and tracks how far each partition got for `--exit-at-end`.
///
/// - Important: Owned by the worker thread; librdkafka calls the hook inside `poll` on that thread
///   (see ``KafkaRebalanceHandler``), so no lock is needed.
package final class PartitionTracker: KafkaRebalanceHandler {
    private let store: any ViewStore
    private let pipeline: String
    private let recordsEnd: Bool
    /// The next offset each assigned partition will apply.
    private(set) var positions: [KafkaTopicPartition: Int64] = [:]
    /// The epoch of this worker's claim of each assigned partition: a batch moves a checkpoint
    /// only while the stored epoch is still this one.
    private(set) var epochs: [KafkaTopicPartition: Int64] = [:]
    /// This worker's name in the checkpoints' `owner` column: host, process and a random part.
    let owner: String
    /// The high watermark of each assigned partition when it was assigned (with `recordsEnd`).
    private var ends: [KafkaTopicPartition: Int64] = [:]
    /// A failure inside the hook, rethrown by the worker after the poll (the hook cannot throw).
    var failure: (any Error)?
    /// Whether the latest rebalance event was an assignment: after a revoke, the group always
    /// follows with an assignment (maybe empty) before this member owns anything again.
    private(set) var isAssigned = false
    /// Told about every assignment and revocation.
    private let metrics: PipelineMetrics?

    package init(store: any ViewStore, pipeline: String, recordsEnd: Bool, metrics: PipelineMetrics? = nil) {
        self.store = store
        self.pipeline = pipeline
        self.recordsEnd = recordsEnd
        self.metrics = metrics
        self.owner = Self.makeOwner(pipeline: pipeline)
    }

    static func makeOwner(pipeline: String) -> String {
        let process = ProcessInfo.processInfo
        return "\(process.hostName)/\(process.processIdentifier)/\(pipeline)/\(UUID().uuidString.prefix(8).lowercased())"
    }

    func consumer(_ consumer: KafkaConsumer, didAssign partitions: [KafkaTopicPartition]) -> [KafkaTopicPartition: KafkaOffset] {
        isAssigned = true
        var stored: [KafkaTopicPartition: Int64] = [:]
        do {
            stored = try [KafkaTopicPartition: Int64](nextOffsets: store.checkpoints(pipeline: pipeline))
        } catch {
            failure = error
        }
        var starts: [KafkaTopicPartition: KafkaOffset] = [:]
        for partition in partitions {
            var watermarks: KafkaWatermarks?
            if recordsEnd || stored[partition] == nil {
                do { watermarks = try consumer.watermarks(partition, timeout: .seconds(10)) } catch { failure = failure ?? error }
            }
            if let next = stored[partition] {
                starts[partition] = KafkaOffset(next)
                positions[partition] = next
            } else {
                starts[partition] = .beginning
                positions[partition] = watermarks?.low ?? 0
            }
            if recordsEnd { ends[partition] = watermarks?.high ?? 0 }
        }
        claim(partitions, starts: &starts)
        // A paused partition (dropped after a lost claim) reads again now that it is ours again.
        try? consumer.resume(partitions)
        metrics?.assigned(positions.filter { partitions.contains($0.key) })
        return starts
    }

    func consumer(_ consumer: KafkaConsumer, willRevoke partitions: [KafkaTopicPartition], isLost: Bool) {
        // Every batch was committed to the store before the poll that revokes, so nothing is in
        // flight here: forget the partitions.
        isAssigned = false
        metrics?.revoked(partitions)
        for partition in partitions {
            positions[partition] = nil
            epochs[partition] = nil
            ends[partition] = nil
        }
    }

    /// Partitions assigned without a group (the bench's manual assignment): no rebalance hook
    /// claims them and tells the fence and the metrics what this loop owns, so this does.
    package func assignManually(from checkpoints: [Checkpoint]) {
        isAssigned = true
        advance(to: checkpoints)
        var starts: [KafkaTopicPartition: KafkaOffset] = [:]
        claim(checkpoints.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) }, starts: &starts)
        metrics?.assigned(positions)
    }

    /// Claims `partitions` in the store (epoch + 1, owner = this worker) and starts each at the
    /// checkpoint the claim found, which another member may have moved since it was read.
    private func claim(_ partitions: [KafkaTopicPartition], starts: inout [KafkaTopicPartition: KafkaOffset]) {
        guard !partitions.isEmpty else { return }
        do {
            let claims = try store.claim(
                pipeline: pipeline, owner: owner,
                partitions: partitions.map { Checkpoint(topic: $0.topic, partition: $0.partition, nextOffset: positions[$0] ?? 0) })
            for (partition, claim) in zip(partitions, claims) {
                epochs[partition] = claim.epoch
                if claim.nextOffset != positions[partition] {
                    positions[partition] = claim.nextOffset
                    starts[partition] = KafkaOffset(claim.nextOffset)
                }
            }
        } catch {
            failure = failure ?? error
        }
    }

    /// Forgets partitions whose claim another worker took over: this worker writes nothing more
    /// of them until the group assigns them to it again (and it claims them again).
    func drop(_ partitions: [KafkaTopicPartition]) {
        for partition in partitions {
            positions[partition] = nil
            epochs[partition] = nil
        }
    }

    /// Claims again the partitions this worker holds, after a swap replaced the checkpoints with
    /// the rebuild's (which no worker owns); returns their stored checkpoints.
    func reclaim() throws -> [KafkaTopicPartition: Int64] {
        let held = Array(positions.keys)
        guard !held.isEmpty else { return [:] }
        let claims = try store.claim(
            pipeline: pipeline, owner: owner,
            partitions: held.map { Checkpoint(topic: $0.topic, partition: $0.partition, nextOffset: positions[$0] ?? 0) })
        var stored: [KafkaTopicPartition: Int64] = [:]
        for (partition, claim) in zip(held, claims) {
            epochs[partition] = claim.epoch
            positions[partition] = claim.nextOffset
            stored[partition] = claim.nextOffset
        }
        return stored
    }

    /// Records the checkpoints a committed batch reached.
    package func advance(to checkpoints: [Checkpoint]) {
        positions.merge([KafkaTopicPartition: Int64](nextOffsets: checkpoints)) { _, new in new }
    }

    /// Whether every assigned partition reached the end recorded at its assignment.
    var isAtEnd: Bool {
        isAssigned && positions.allSatisfy { partition, next in next >= ends[partition] ?? Int64.max }
    }
}
