public import Views
internal import Pipelines

/// `projector dlq replay`: runs dead letters again through the current pipeline definition, in id
/// order, in ONE store transaction: each letter that now applies has its changes written and is
/// deleted with them; one that still fails stays, with nothing of it applied.
///
/// Checkpoints do not move: the letters' offsets were passed long ago.
public struct DeadLetterReplay: Sendable {
    /// What a replay did.
    public struct Outcome: Sendable, Equatable {
        /// Ids of the letters applied and deleted.
        public var replayed: [Int64]
        /// Letters that still fail, with the new reason.
        public var stillFailing: [Failure]
    }

    /// A letter that still fails.
    public struct Failure: Sendable, Equatable {
        /// Its id in `_projector_dead_letters`.
        public var id: Int64
        /// Why it still fails.
        public var reason: String
    }

    /// The projection to replay through (the current definition).
    public let projection: any Projection
    /// The store holding the letters and the views.
    public let store: any ViewStore

    /// Creates a replay.
    public init(projection: any Projection, store: any ViewStore) {
        self.projection = projection
        self.store = store
    }

    /// Replays the pipeline's dead letters with the given ids, or all of them when `ids` is nil.
    /// - Throws: ``ProjectorError`` `.database` when the store fails (then nothing is replayed).
    public func run(ids: Set<Int64>? = nil) throws(ProjectorError) -> Outcome {
        let projection = projection
        do {
            try store.prepare(pipeline: projection.name, version: projection.version, hash: projection.definitionHash,
                              views: projection.views)
            let letters = try store.deadLetters(pipeline: projection.name, limit: nil).filter { ids?.contains($0.id) ?? true }
            return try store.write(pipeline: projection.name) { transaction in
                var outcome = Outcome(replayed: [], stillFailing: [])
                for stored in letters {
                    if let reason = try Self.apply(stored.letter, projection: projection, transaction: &transaction) {
                        outcome.stillFailing.append(Failure(id: stored.id, reason: reason))
                    } else {
                        outcome.replayed.append(stored.id)
                    }
                }
                try transaction.deleteDeadLetters(ids: outcome.replayed)
                if !outcome.replayed.isEmpty { try transaction.addCounters(["replayed": Int64(outcome.replayed.count)]) }
                return outcome
            }
        } catch let error as ProjectorError {
            throw error
        } catch {
            throw ProjectorError(code: .database, message: "dlq replay of \(projection.name): \(error)")
        }
    }

    /// Applies one letter; returns why it failed, or nil when its changes were written.
    private static func apply(
        _ letter: DeadLetter, projection: any Projection, transaction: inout any ViewTransaction
    ) throws -> String? {
        guard let topic = projection.topics.firstIndex(of: letter.topic) else {
            return "topic \(letter.topic) is not a source of pipeline \(projection.name) any more"
        }
        return try withOptionalBytes(letter.key) { key in
            try withOptionalBytes(letter.value) { value in
                var message = RawMessage(key: key, value: value, topic: topic, partition: letter.partition,
                                         offset: letter.offset, timestamp: nil)
                let result = try withUnsafePointer(to: &message) { pointer in
                    try projection.run(UnsafeBufferPointer(start: pointer, count: 1), rows: &transaction)
                }
                if let error = result.errors.first { return "\(error.code): \(error.message)" }
                try transaction.apply(result.changes)
                return nil
            }
        }
    }
}

/// Calls `body` with the bytes of `bytes`, or nil.
private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
    guard let bytes else { return try body(nil) }
    return try bytes.withUnsafeBytes { try body($0) }
}
