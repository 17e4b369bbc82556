internal import KafkaClient
internal import Logging
internal import Views
internal import ProjectorModel

/// Fetching exactly the partitions short of their target, and applying what they return.
extension RebuildReader {
    /// Polls and applies batches with `apply` until every partition reached its target, the
    /// signal stops it, or the deadline passes.
    mutating func catchUp(
        signal: ShutdownSignal, deadline: ContinuousClock.Instant?,
        apply: (UnsafeBufferPointer<RawMessage>) throws -> BatchApplier.Outcome
    ) throws(ProjectorError) -> CatchUp {
        while true {
            try fetchPending()
            if !partitions.indices.contains(where: { position[$0] < target[$0] }) { return .reached }
            if signal.isTriggered { return .stopped }
            if let deadline, ContinuousClock.now >= deadline { return .timedOut }
            wakeFetchersIfDrained()
            try pollOnce(apply: apply)
        }
    }

    /// Wakes the brokers' fetchers once the rebuild has read librdkafka's queue below half its
    /// bound (``RebuildOptions/prefetchRecords``), at most every 5 ms.
    ///
    /// librdkafka 2.0.2 stops fetching when the queue reaches its bound and looks again only when
    /// something wakes its broker threads, else after up to a second (issue #2879): a rebuild that
    /// reads its few records ahead in less would wait out the rest. The requests wake the broker
    /// threads when they reach them; their answers are not needed, so the rebuild waits for them at
    /// most 1 ms (waiting for every answer, behind the brokers' fetch answers, cost a 150,000-event
    /// rebuild ~15 % of its wall time).
    private mutating func wakeFetchersIfDrained() {
        guard isFetching.contains(true), consumer.queuedMessages < options.prefetchRecords / 2 else { return }
        let now = ContinuousClock.now
        guard now - wokeFetchers >= .milliseconds(5) else { return }
        wokeFetchers = now
        // Timed out by design: the requests are sent. A broker that is down shows in the next poll.
        try? consumer.wakeFetchers(leading: wakeTargets, timeout: .milliseconds(1))
    }

    /// Makes the consumer fetch exactly the partitions short of their target, each from its position.
    private mutating func fetchPending() throws(ProjectorError) {
        let pending = partitions.indices.filter { position[$0] < target[$0] }
        do {
            if pending.contains(where: { !isFetching[$0] }) {
                // (Re)start from the shadow's positions: records fetched past a target were dropped.
                var offsets: [KafkaTopicPartition: KafkaOffset] = [:]
                for slot in pending { offsets[partitions[slot]] = KafkaOffset(position[slot]) }
                try consumer.assign(offsets)
                // A partition paused earlier may keep librdkafka's pause flag across assignments.
                try consumer.resume(pending.map { partitions[$0] })
                isFetching = partitions.indices.map { pending.contains($0) }
            } else {
                let done = partitions.indices.filter { isFetching[$0] && position[$0] >= target[$0] }
                if !done.isEmpty {
                    try consumer.pause(done.map { partitions[$0] })
                    for slot in done { isFetching[slot] = false }
                }
            }
        } catch {
            throw ProjectorError(wrapping: error, doing: "rebuild \(projection.name)")
        }
    }

    private mutating func pollOnce(apply: (UnsafeBufferPointer<RawMessage>) throws -> BatchApplier.Outcome) throws(ProjectorError) {
        let name = projection.name
        let outcome: BatchApplier.Outcome?
        let writtenBefore = window.bytesWritten
        var applying = Duration.zero
        do {
            outcome = try consumer.poll(maxMessages: options.maxBatchMessages, timeout: options.pollTimeout) { batch in
                BatchStep.log(batch.events, logger: logger, subject: "rebuild \(name)")
                messages.removeAll(keepingCapacity: true)
                for record in batch {
                    let topic = topics.index(of: record.topicID, in: consumer)
                    let partition = Int(record.partition)
                    guard partition < slots[topic].count, case let slot = slots[topic][partition], slot >= 0 else { continue }
                    let offset = record.offset
                    if offset < position[slot] { continue }
                    let timestamp = record.timestamp?.milliseconds
                    if let cutoff, let timestamp, timestamp > cutoff, offset < target[slot] {
                        target[slot] = offset
                    }
                    if offset >= target[slot] {
                        // At or past the end (a compacted gap may hide the last offsets before it).
                        position[slot] = max(position[slot], target[slot])
                        continue
                    }
                    messages.append(RawMessage(record, topic: topic))
                }
                if messages.isEmpty { return nil }
                let started = ContinuousClock.now
                defer { applying = ContinuousClock.now - started }
                return try messages.withUnsafeBufferPointer { try apply($0) }
            }
        } catch {
            throw ProjectorError(wrapping: error, pipeline: name, doing: "rebuild \(name)")
        }
        guard let outcome else { return }
        for checkpoint in outcome.checkpoints {
            if let slot = slot(topic: checkpoint.topic, partition: checkpoint.partition) {
                position[slot] = max(position[slot], checkpoint.nextOffset)
            }
        }
        events += outcome.consumed
        batches += 1
        // A batch that wrote the window took the write's time on top of its own; a window handed
        // to the shadow writer took the writer's time, and only waiting for it took the batch's.
        let overlaps = shadowWrites.overlaps
        for write in shadowWrites.takeFinishedWrites() {
            estimator.recordBackgroundWrite(bytes: write.bytes, seconds: write.seconds)
        }
        estimator.record(events: events, total: Int64(events) + progressRemaining, elapsed: ContinuousClock.now - started,
                         batchSeconds: RebuildProgress.Estimator.seconds(applying),
                         wroteBytes: overlaps ? 0 : window.bytesWritten - writtenBefore)
        counters.add(outcome.counters)
        try BatchStep.report(
            outcome, projection: projection, logger: logger, subject: "rebuild \(name)",
            hint: "the shadow keeps everything before it; the live views are untouched; "
                + "fix the pipeline or set on_error: skip or dead-letter, then rebuild again")
        if let onProgress { onProgress(progress) }
    }


    // MARK: Reporting

    var progress: RebuildProgress {
        let remaining = progressRemaining
        return RebuildProgress(
            pipeline: projection.name,
            partitions: partitions.indices.map { slot in
                RebuildProgress.Partition(
                    topic: partitions[slot].topic, partition: partitions[slot].partition, start: start[slot],
                    position: position[slot], end: max(target[slot], start[slot]))
            },
            events: events, elapsed: ContinuousClock.now - started,
            eta: shadowWrites.overlaps
                ? estimator.remaining(remaining, unwrittenBytes: window.bytes, foldedBytes: window.bytesWritten + window.bytes,
                                      lastWindow: window.limit, inFlightBytes: shadowWrites.inFlightBytes)
                : estimator.remaining(remaining, unwrittenBytes: window.bytes))
    }

    /// Messages left to read over all partitions (``RebuildProgress/remaining``).
    private var progressRemaining: Int64 {
        partitions.indices.reduce(0) { $0 + max(target[$1] - max(position[$1], start[$1]), 0) }
    }

    func summary(_ outcome: Rebuild.Summary.Outcome, wasResumed: Bool) -> Rebuild.Summary {
        let checkpoints = (try? store.checkpoints(pipeline: projection.name, target: outcome == .swapped ? .live : .shadow)) ?? []
        return Rebuild.Summary(
            pipeline: projection.name, outcome: outcome, wasResumed: wasResumed, events: events, batches: batches,
            elapsed: ContinuousClock.now - started, checkpoints: checkpoints, counters: counters,
            windowsWritten: shadowWrites.windowsWritten, windowsWrittenWhileReading: shadowWrites.windowsWrittenWhileReading)
    }
}
