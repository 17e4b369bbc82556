package import Pipelines
package import Views
package import ProjectorModel

/// Applies batches of messages to a view store: the projection's changes, dead letters, counters
/// and the checkpoints after the batch, in ONE store transaction (docs/ARCHITECTURE.md, "Checkpoints in the rows' transaction").
///
/// The worker, the rebuild and `dlq replay` all apply through it, so they share one definition
/// of "what a batch did".
package struct BatchApplier: Sendable {
    /// What one applied batch did.
    package struct Outcome: Sendable {
        /// How many messages of the batch were consumed (all but those from a failing one on).
        package var consumed: Int
        /// The next offset per topic partition after the consumed messages.
        package var checkpoints: [Checkpoint]
        /// The event that stopped the batch under `on_error: fail`, with its topic name.
        package var failure: (error: EventError, topic: String)?
        /// The failed events that were skipped or dead-lettered.
        package var failedEvents: [EventError]
        /// Event counts by outcome.
        package var counters: PlanResult.Counters
        /// How long the store took to commit the batch's transaction.
        package var commitDuration: Duration = .zero
    }

    /// The projection whose changes are applied.
    package let projection: any Projection
    /// The store written.
    package let store: any ViewStore
    /// The generation written: live views, or the shadow of a rebuild.
    package let target: ViewTarget

    /// Creates an applier.
    package init(projection: any Projection, store: any ViewStore, target: ViewTarget) {
        self.projection = projection
        self.store = store
        self.target = target
    }

    /// Applies `messages` in one transaction and returns what happened.
    ///
    /// - Parameters:
    ///   - messages: the batch in consumption order.
    ///   - check: runs inside the transaction before anything is written, e.g. to fence a worker
    ///     that lost its partitions; throwing from it writes nothing.
    ///   - headers: the headers of the message at an index, asked only for dead-lettered messages
    ///     (good messages cost nothing).
    ///   - storeCheckpoints: writes the batch's checkpoints in the transaction (by default
    ///     `setCheckpoints`; a worker moves its claimed checkpoints, see ``PartitionFence``).
    /// - Throws: the store's error (nothing of the batch is then written), or `check`'s.
    package func apply(
        _ messages: UnsafeBufferPointer<RawMessage>,
        check: (inout any ViewTransaction) throws -> Void = { _ in },
        headers: (Int) -> [DeadLetterHeader] = { _ in [] },
        storeCheckpoints: ((inout any ViewTransaction, [Checkpoint]) throws -> Void)? = nil
    ) throws -> Outcome {
        var written = ContinuousClock.now
        var outcome = try store.write(pipeline: projection.name, target: target) { transaction in
            try check(&transaction)
            let outcome = try apply(messages, headers: headers, storeCheckpoints: storeCheckpoints, in: &transaction)
            written = .now
            return outcome
        }
        outcome.commitDuration = .now - written
        return outcome
    }

    /// Applies `messages` inside a transaction the caller opened on ``target`` (the rebuild's last
    /// batches run inside the swap's transaction) and returns what happened.
    /// - Throws: the store's error; the caller's transaction then must not commit.
    package func apply(
        _ messages: UnsafeBufferPointer<RawMessage>, headers: (Int) -> [DeadLetterHeader] = { _ in [] },
        storeCheckpoints: ((inout any ViewTransaction, [Checkpoint]) throws -> Void)? = nil,
        in transaction: inout any ViewTransaction
    ) throws -> Outcome {
        let evaluation = try evaluate(messages, headers: headers, rows: &transaction)
        try transaction.apply(evaluation.changes)
        if let storeCheckpoints {
            try storeCheckpoints(&transaction, evaluation.outcome.checkpoints)
        } else {
            try transaction.setCheckpoints(evaluation.outcome.checkpoints)
        }
        if !evaluation.deadLetters.isEmpty { try transaction.addDeadLetters(evaluation.deadLetters) }
        let deltas = Self.counterDeltas(evaluation.outcome.counters, ignoredTypes: evaluation.ignoredTypes)
        if !deltas.isEmpty { try transaction.addCounters(deltas) }
        return evaluation.outcome
    }

    /// What a batch does to the store, not yet written: a rebuild folds many into one window.
    package struct Evaluation {
        /// One change per touched row whose state differs from what was read.
        package var changes: [ViewChange]
        /// The dead letters to keep (under `on_error: dead-letter`).
        package var deadLetters: [DeadLetter]
        /// Events of a type without handler, by type name.
        package var ignoredTypes: [String: Int]
        /// What the batch did.
        package var outcome: Outcome
    }

    /// Runs the projection over `messages`, reading rows from `rows`, and returns what applying
    /// the batch writes: changes, dead letters, checkpoints and counters.
    /// - Throws: what `rows` throws.
    package func evaluate(
        _ messages: UnsafeBufferPointer<RawMessage>, headers: (Int) -> [DeadLetterHeader] = { _ in [] },
        rows: inout some RowReader
    ) throws -> Evaluation {
        try prefetch(messages, rows: &rows)
        return evaluation(of: try projection.run(messages, rows: &rows), messages, headers: headers)
    }

    /// Runs the projection over `messages` into `set`, a change set kept across batches (a
    /// rebuild's window, which writes `set.changes` itself): the evaluation's `changes` are empty.
    /// - Throws: what `rows` throws.
    package func evaluate(
        _ messages: UnsafeBufferPointer<RawMessage>, rows: inout some RowReader, into set: inout ChangeSet
    ) throws -> Evaluation {
        try prefetch(messages, rows: &rows, held: set)
        return evaluation(of: try projection.run(messages, rows: &rows, into: &set), messages, headers: { _ in [] })
    }

    private func evaluation(
        of result: PlanResult, _ messages: UnsafeBufferPointer<RawMessage>, headers: (Int) -> [DeadLetterHeader]
    ) -> Evaluation {
        let consumed = result.stoppedAt ?? messages.count
        let checkpoints = Self.checkpoints(after: UnsafeBufferPointer(rebasing: messages[0 ..< consumed]), topics: projection.topics)
        var failure: (EventError, String)?
        var failedEvents = result.errors
        if let stop = result.stoppedAt, let error = result.errors.first(where: { $0.messageIndex == stop }) {
            failure = (error, projection.topics[error.topic])
            failedEvents.removeAll { $0.messageIndex == stop }
        }
        var letters: [DeadLetter] = []
        if projection.errorPolicy == .deadLetter, !failedEvents.isEmpty {
            let publication: DeadLetterPublication = projection.deadLetterTopic == nil ? .none : .pending
            letters = failedEvents.map { error in
                Self.deadLetter(error, messages[error.messageIndex], topics: projection.topics,
                                headers: headers(error.messageIndex), publication: publication)
            }
        }
        return Evaluation(
            changes: result.changes, deadLetters: letters, ignoredTypes: result.ignoredTypes,
            outcome: Outcome(consumed: consumed, checkpoints: checkpoints, failure: failure,
                             failedEvents: failedEvents, counters: result.counters))
    }

    /// The next offset per topic partition after `messages`: one past the highest offset seen.
    static func checkpoints(after messages: UnsafeBufferPointer<RawMessage>, topics: [String]) -> [Checkpoint] {
        // Few partitions per batch, in runs (a fetch answers a run of records per partition): the
        // current run's partition is compared first, the others scanned only when the run changes.
        var next: [(topic: Int, partition: Int32, offset: Int64)] = []
        var current = -1
        for message in messages {
            if current < 0 || next[current].topic != message.topic || next[current].partition != message.partition {
                if let index = next.firstIndex(where: { $0.topic == message.topic && $0.partition == message.partition }) {
                    current = index
                } else {
                    current = next.count
                    next.append((message.topic, message.partition, message.offset + 1))
                    continue
                }
            }
            next[current].offset = max(next[current].offset, message.offset + 1)
        }
        return next.map { Checkpoint(topic: topics[$0.topic], partition: $0.partition, nextOffset: $0.offset) }
    }

    /// The raw message, its headers, the key it parks and the reason, for the dead-letter table.
    static func deadLetter(
        _ error: EventError, _ message: RawMessage, topics: [String], headers: [DeadLetterHeader],
        publication: DeadLetterPublication
    ) -> DeadLetter {
        DeadLetter(
            topic: topics[error.topic], partition: error.partition, offset: error.offset,
            key: message.key.map { Array($0) }, value: message.value.map { Array($0) },
            error: "\(error.code): \(error.message)", parkKey: error.key, headers: headers, publication: publication)
    }

    /// The stored counter of ignored events of one type: this prefix and the type name.
    package static let ignoredTypeCounterPrefix = "ignored_unknown_type:"

    /// The non-zero counters by their stored names (`_projector_counters.name`).
    static func counterDeltas(_ counters: PlanResult.Counters, ignoredTypes: [String: Int]) -> [String: Int64] {
        let all: [(String, Int)] = [
            ("applied", counters.applied), ("ignored_unknown_type", counters.ignoredUnknownType),
            ("filtered", counters.filtered), ("deduplicated", counters.deduplicated),
            ("no_op_updates", counters.noOpUpdates), ("tombstones_skipped", counters.tombstonesSkipped),
            ("skipped", counters.skipped), ("dead_lettered", counters.deadLettered), ("parked", counters.parked),
        ]
        var deltas: [String: Int64] = [:]
        for (name, value) in all where value != 0 { deltas[name] = Int64(value) }
        for (type, count) in ignoredTypes { deltas[ignoredTypeCounterPrefix + type] = Int64(count) }
        return deltas
    }
}
