internal import KafkaClient
package import Views
package import ProjectorModel

/// The worker's rebalance hook: starts every assigned partition at the checkpoint stored with the
/// views (earliest when none), and tracks how far each partition got for `--exit-at-end`.
///
/// - Important: Owned by the worker thread; librdkafka calls the hook inside `poll` on that thread
///   (see ``KafkaRebalanceHandler``), so no lock is needed.
package final class PartitionTracker: KafkaRebalanceHandler {
    private let store: any ViewStore
    private let pipeline: String
    private let recordsEnd: Bool
    /// The next offset each assigned partition will apply.
    private(set) var positions: [KafkaTopicPartition: Int64] = [:]
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
            ends[partition] = nil
        }
    }

    /// Partitions assigned without a group (the bench's manual assignment): no rebalance hook
    /// tells the fence and the metrics what this loop owns, so this does.
    package func assignManually(from checkpoints: [Checkpoint]) {
        isAssigned = true
        advance(to: checkpoints)
        metrics?.assigned([KafkaTopicPartition: Int64](nextOffsets: checkpoints))
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
