package import KafkaClient
internal import Pipelines
internal import Views
internal import ProjectorModel

/// One worker's polling state: the reusable message buffer and the topic index cache.
///
/// - Important: Owned by the worker thread.
package struct WorkerLoop {
    let projection: any Projection
    let applier: BatchApplier
    let consumer: KafkaConsumer
    let tracker: PartitionTracker
    let onBatch: (@Sendable (Worker.Progress) -> Void)?
    package private(set) var progress: Worker.Progress
    /// `RawMessage`s of the current batch; its capacity is kept across batches.
    private var messages: [RawMessage] = []
    /// The projection's topic index of each consumer topic id.
    private var topics: TopicIndexes

    package init(projection: any Projection, applier: BatchApplier, consumer: KafkaConsumer, tracker: PartitionTracker,
         onBatch: (@Sendable (Worker.Progress) -> Void)?) {
        self.projection = projection
        self.topics = TopicIndexes(topics: projection.topics)
        self.applier = applier
        self.consumer = consumer
        self.tracker = tracker
        self.onBatch = onBatch
        self.progress = Worker.Progress(pipeline: projection.name, messages: 0, batches: 0, counters: .init())
    }

    /// Polls one batch and applies it.
    package mutating func pollOnce(maxMessages: Int, timeout: Duration) throws(ProjectorError) {
        let outcome: BatchApplier.Outcome?
        do {
            outcome = try consumer.poll(maxMessages: maxMessages, timeout: timeout) { batch in
                try report(batch.events)
                return batch.isEmpty ? nil : try apply(batch)
            }
        } catch let error as ProjectorError {
            throw error
        } catch let fenced as PartitionFence.Overtaken {
            // Rolled back: another member advanced these partitions. Start again from the store.
            try resumeFromStore(fenced)
            return
        } catch let error as ViewStoreError where error.code == .generationChanged {
            // A rebuild swapped new tables in (Views checks under the write lock); the batch was
            // rolled back. Take the new generation and go on from its checkpoints.
            try adoptSwappedGeneration()
            return
        } catch let error as KafkaError {
            throw ProjectorError(code: .broker, message: "pipeline \(projection.name): \(error)")
        } catch {
            throw ProjectorError(code: .database, message: "pipeline \(projection.name): \(error)")
        }
        if let failure = tracker.failure {
            throw ProjectorError(code: .database, message: "pipeline \(projection.name): reading checkpoints: \(failure)")
        }
        guard let outcome else { return }
        tracker.advance(to: outcome.checkpoints)
        commitToKafka(outcome.checkpoints)
        progress.messages += outcome.consumed
        progress.batches += 1
        progress.counters.add(outcome.counters)
        if projection.errorPolicy == .skip {
            for error in outcome.failedEvents {
                Log.warning("pipeline \(projection.name): skipped \(projection.topics[error.topic]) partition \(error.partition) offset \(error.offset): \(error.code): \(error.message)")
            }
        }
        onBatch?(progress)
        if let (error, topic) = outcome.failure {
            throw ProjectorError(
                code: .eventFailed,
                message: "pipeline \(projection.name): topic \(topic) partition \(error.partition) offset \(error.offset): "
                    + "\(error.code): \(error.message) (everything before it is committed; fix the pipeline or "
                    + "the event, or set on_error: skip or dead-letter)")
        }
    }

    /// Prepares the store again after a swap and seeks every assigned partition to its checkpoint.
    private func adoptSwappedGeneration() throws(ProjectorError) {
        let store = applier.store
        do {
            try store.prepare(pipeline: projection.name, version: projection.version, hash: projection.definitionHash,
                              views: projection.views)
            let stored = try [KafkaTopicPartition: Int64](nextOffsets: store.checkpoints(pipeline: projection.name))
            for partition in tracker.positions.keys {
                let next = stored[partition]
                try consumer.seek(partition, to: next.map { KafkaOffset($0) } ?? .beginning, timeout: .seconds(10))
                tracker.advance(to: [Checkpoint(topic: partition.topic, partition: partition.partition, nextOffset: next ?? 0)])
            }
        } catch {
            throw ProjectorError(code: .database, message: "pipeline \(projection.name): the views were rebuilt and swapped in: \(error)")
        }
        Log.warning("pipeline \(projection.name): the views were rebuilt and swapped in; continuing from their checkpoints")
    }

    /// Seeks the overtaken partitions this worker still owns to their stored checkpoints.
    private func resumeFromStore(_ fenced: PartitionFence.Overtaken) throws(ProjectorError) {
        Log.warning("pipeline \(projection.name): batch rolled back, another worker got there first: \(fenced.reason); "
            + "continuing from the stored checkpoints")
        let stored: [KafkaTopicPartition: Int64]
        do {
            stored = try [KafkaTopicPartition: Int64](nextOffsets: applier.store.checkpoints(pipeline: projection.name))
        } catch {
            throw ProjectorError(code: .database, message: "pipeline \(projection.name): reading checkpoints: \(error)")
        }
        for partition in fenced.partitions where tracker.positions[partition] != nil {
            let next = stored[partition]
            do {
                try consumer.seek(partition, to: next.map { KafkaOffset($0) } ?? .beginning, timeout: .seconds(10))
                tracker.advance(to: [Checkpoint(topic: partition.topic, partition: partition.partition, nextOffset: next ?? 0)])
            } catch {
                // The assignment is going away; the next assignment starts at the stored checkpoint.
                Log.warning("pipeline \(projection.name): seeking \(partition.topic)/\(partition.partition): \(error)")
            }
        }
    }

    private mutating func apply(_ batch: KafkaRecordBatch) throws -> BatchApplier.Outcome {
        messages.removeAll(keepingCapacity: true)
        for record in batch {
            messages.append(RawMessage(
                key: record.key, value: record.value, topic: topics.index(of: record.topicID, in: consumer),
                partition: record.partition, offset: record.offset, timestamp: record.timestamp?.milliseconds))
        }
        let topics = projection.topics
        let positions = tracker.positions
        let isAssignmentLost = consumer.isAssignmentLost
        return try messages.withUnsafeBufferPointer { messages in
            try applier.apply(messages, check: { transaction in
                try PartitionFence.check(messages, topics: topics, positions: positions,
                                         isAssignmentLost: isAssignmentLost, transaction: &transaction)
            }, headers: { Self.headers(of: batch[$0]) })
        }
    }


    /// A dead-lettered record's headers, copied out of the batch (one `messages` index per record).
    private static func headers(of record: KafkaRecord) -> [DeadLetterHeader] {
        record.headers.map { DeadLetterHeader(name: $0.name, value: $0.value.map { Array($0) }) }
    }

    /// Partition errors are reported, not fatal: librdkafka retries them (a fatal error throws from poll).
    /// Authorization failures are permanent, though: retrying cannot help, so the worker stops with
    /// the error rather than hang (every batch before it is committed).
    private func report(_ events: [KafkaConsumerEvent]) throws {
        for event in events {
            let error: KafkaError
            switch event.kind {
            case .error(let reported), .commitFailed(let reported): error = reported
            case .endOfPartition: continue
            }
            if Self.permanentCodes.contains(error.code.rawValue) {
                throw ProjectorError(code: .broker, message: "pipeline \(projection.name): \(error) (not retriable: "
                    + "grant the worker's principal access to the topics and the group, then restart)")
            }
            Log.warning("pipeline \(projection.name): \(error)")
        }
    }

    /// Broker errors that retrying cannot fix: TOPIC_, GROUP_ and CLUSTER_AUTHORIZATION_FAILED.
    static let permanentCodes: Set<Int32> = [29, 30, 31]

    /// Informational only (lag tools): the checkpoints in the store are the truth.
    private func commitToKafka(_ checkpoints: [Checkpoint]) {
        let offsets = [KafkaTopicPartition: Int64](nextOffsets: checkpoints)
        do {
            try consumer.commit(offsets, mode: .async)
        } catch {
            Log.warning("pipeline \(projection.name): committing offsets to Kafka: \(error)")
        }
    }
}

extension PlanResult.Counters {
    /// Adds another batch's counts.
    mutating func add(_ other: PlanResult.Counters) {
        applied += other.applied
        ignoredUnknownType += other.ignoredUnknownType
        filtered += other.filtered
        deduplicated += other.deduplicated
        noOpUpdates += other.noOpUpdates
        tombstonesSkipped += other.tombstonesSkipped
        skipped += other.skipped
        deadLettered += other.deadLettered
        parked += other.parked
    }
}
