package import KafkaClient
package import Logging
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
    /// Carries the pipeline's name as metadata.
    let logger: Logger
    package private(set) var progress: Worker.Progress
    /// `RawMessage`s of the current batch; its capacity is kept across batches.
    private var messages: [RawMessage] = []
    /// The projection's topic index of each consumer topic id.
    private var topics: TopicIndexes
    /// Measures each batch when the worker reports metrics.
    private var meter: BatchMeter?

    package init(projection: any Projection, applier: BatchApplier, consumer: KafkaConsumer, tracker: PartitionTracker,
                 logger: Logger, metrics: PipelineMetrics? = nil, onBatch: (@Sendable (Worker.Progress) -> Void)?) {
        self.meter = metrics.map { BatchMeter(metrics: $0, topics: projection.topics) }
        self.projection = projection
        self.topics = TopicIndexes(topics: projection.topics)
        self.applier = applier
        self.consumer = consumer
        self.tracker = tracker
        self.onBatch = onBatch
        self.logger = logger
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
        } catch let fenced as PartitionFence.Overtaken {
            meter?.didApply(nil)
            if fenced.isClaimLost || !fenced.movedOutside.isEmpty {
                let taken = fenced.partitions.filter { !fenced.movedOutside.contains($0) }
                if !taken.isEmpty {
                    // Rolled back: another worker claimed these partitions (this one stalled past its
                    // session timeout). Write nothing more of them until the group gives them back.
                    logger.warning(
                        "\(subject): batch rolled back, another worker claimed its partitions: \(fenced.reason); dropping them until the group assigns them again")
                    tracker.drop(taken)
                    try? consumer.pause(taken)
                }
                if !fenced.movedOutside.isEmpty {
                    // Still ours, but another process moved the checkpoint (not a reset or rebuild of
                    // ours, which swap): read on from the stored offset, a rewind the status shows.
                    logger.warning("\(subject): batch rolled back: \(fenced.reason); continuing from the stored checkpoints")
                    try seekToStoredCheckpoints(fenced.movedOutside, after: "a checkpoint moved from outside", isOurs: false)
                }
                return
            }
            // Rolled back: another member advanced these partitions. Start again from the store.
            logger.warning(
                "\(subject): batch rolled back, another worker got there first: \(fenced.reason); continuing from the stored checkpoints")
            try seekToStoredCheckpoints(fenced.partitions, after: "a fenced batch", isOurs: false)
            return
        } catch let error as ViewStoreError where error.code == .generationChanged {
            // A rebuild swapped new tables in (Views checks under the write lock); the batch was
            // rolled back. Take the new generation and go on from its checkpoints.
            meter?.didApply(nil)
            do {
                try applier.store.prepare(pipeline: projection.name, version: projection.version,
                                          hash: projection.definitionHash, views: projection.views)
            } catch let changed as ViewStoreError where changed.code == .definitionChanged {
                throw ProjectorError(
                    code: .superseded,
                    message: "\(subject): a rebuild swapped in views of another definition; this worker's definition "
                        + "(version \(projection.version), hash \(projection.definitionHash.prefix(12))) is outdated and stops",
                    pipeline: projection.name, underlying: changed)
            } catch {
                throw ProjectorError(wrapping: error, pipeline: projection.name, doing: "\(subject): the views were rebuilt and swapped in")
            }
            // The swap brought the rebuild's checkpoints, which no worker claimed: claim them again.
            do {
                _ = try tracker.reclaim()
            } catch {
                throw ProjectorError(wrapping: error, pipeline: projection.name, doing: "\(subject): claiming partitions after a swap")
            }
            try seekToStoredCheckpoints(Array(tracker.positions.keys), after: "a swap", isOurs: true)
            logger.warning("\(subject): the views were rebuilt and swapped in; continuing from their checkpoints")
            return
        } catch {
            meter?.didApply(nil)
            throw ProjectorError(wrapping: error, pipeline: projection.name, doing: subject)
        }
        meter?.metrics.polled()
        if let failure = tracker.failure {
            throw ProjectorError(wrapping: failure, pipeline: projection.name, doing: "\(subject): reading checkpoints")
        }
        guard let outcome else { return }
        tracker.advance(to: outcome.checkpoints)
        commitToKafka(outcome.checkpoints)
        progress.messages += outcome.consumed
        progress.batches += 1
        progress.counters.add(outcome.counters)
        onBatch?(progress)
        try BatchStep.report(
            outcome, projection: projection, logger: logger, subject: subject,
            hint: "everything before it is committed; fix the pipeline or the event, or set on_error: skip or dead-letter")
    }

    /// How log lines and errors name this worker.
    private var subject: String { "pipeline \(projection.name)" }

    /// Seeks the given partitions this worker still owns to the checkpoints stored with the views
    /// (the earliest offset when none), after the store moved under it; `isOurs` tells whether
    /// the move was this process's own (a rebuild's swap) rather than someone else's reset.
    private func seekToStoredCheckpoints(_ partitions: [KafkaTopicPartition], after cause: String, isOurs: Bool) throws(ProjectorError) {
        let stored = try wrappingErrors(pipeline: projection.name, doing: "\(subject): reading checkpoints after \(cause)") {
            try [KafkaTopicPartition: Int64](nextOffsets: applier.store.checkpoints(pipeline: projection.name))
        }
        for partition in partitions where tracker.positions[partition] != nil {
            let next = stored[partition]
            do {
                try consumer.seek(partition, to: next.map { KafkaOffset($0) } ?? .beginning, timeout: .seconds(10))
                tracker.advance(to: [Checkpoint(topic: partition.topic, partition: partition.partition, nextOffset: next ?? 0)])
                meter?.metrics.moved(partition, to: next ?? 0, isOurs: isOurs)
            } catch {
                // The assignment is going away; the next assignment starts at the stored checkpoint.
                logger.warning("\(subject): seeking \(partition.topic)/\(partition.partition): \(error)",
                               metadata: BatchStep.position(topic: partition.topic, partition: partition.partition))
            }
        }
    }

    private mutating func apply(_ batch: KafkaRecordBatch) throws -> BatchApplier.Outcome {
        messages.removeAll(keepingCapacity: true)
        messages.reserveCapacity(batch.count)
        for record in batch {
            messages.append(RawMessage(record, topic: topics.index(of: record.topicID, in: consumer)))
        }
        let topics = projection.topics
        let positions = tracker.positions
        let epochs = tracker.epochs
        let isAssignmentLost = consumer.isAssignmentLost
        meter?.willApply(messages)
        let outcome = try messages.withUnsafeBufferPointer { messages in
            try applier.apply(messages, check: { transaction in
                try PartitionFence.check(messages, topics: topics, positions: positions,
                                         isAssignmentLost: isAssignmentLost, isClaimed: true, transaction: &transaction)
            }, headers: { Self.headers(of: batch[$0]) }, storeCheckpoints: { transaction, checkpoints in
                try PartitionFence.advance(checkpoints, positions: positions, epochs: epochs, transaction: &transaction)
            })
        }
        meter?.didApply(outcome)
        return outcome
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
            if error.code.isAuthorizationFailure {
                throw ProjectorError(
                    code: .broker,
                    message: "\(subject): \(error) (not retriable: grant the worker's principal access to the topics and "
                        + "the group, then restart)",
                    pipeline: projection.name, underlying: error)
            }
            logger.warning("\(subject): \(error)")
        }
    }

    /// Informational only (lag tools): the checkpoints in the store are the truth.
    private func commitToKafka(_ checkpoints: [Checkpoint]) {
        let offsets = [KafkaTopicPartition: Int64](nextOffsets: checkpoints)
        do {
            try consumer.commit(offsets, mode: .async)
        } catch {
            logger.warning("\(subject): committing offsets to Kafka: \(error)")
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
