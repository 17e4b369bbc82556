public import Views
internal import Pipelines
internal import ProjectorModel

/// `projector dlq replay`: runs dead letters again through the current pipeline definition, in id
/// order (their arrival order), in ONE store transaction: each letter that now applies has its
/// changes written and is deleted with them; one that still fails stays, with nothing of it applied.
///
/// Under `dead_letter.park_key` a key's letters keep their order: replaying a key unparks it and
/// runs its letters in order; the first that still fails parks the key again behind itself, and
/// the later letters of that key stay, unapplied. A selection (`ids`) that would apply a later
/// letter of a key without an earlier one is refused as a whole (``ProjectorError`` `.usage`, exit code 2).
///
/// Checkpoints do not move: the letters' offsets were passed long ago.
public struct DeadLetterReplay: Sendable {
    /// What a replay did.
    public struct Outcome: Sendable, Equatable {
        /// Ids of the letters applied and deleted.
        public var replayed: [Int64]
        /// Letters that still fail (or stay parked behind one that does), with the reason.
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
    /// - Throws: ``ProjectorError`` `.database` when the store fails, `.usage` when `ids` would
    ///   apply a parked key's letters out of order (then nothing is replayed).
    public func run(ids: Set<Int64>? = nil) throws(ProjectorError) -> Outcome {
        let projection = projection
        do {
            try store.prepare(pipeline: projection.name, version: projection.version, hash: projection.definitionHash,
                              views: projection.views)
            return try store.write(pipeline: projection.name) { transaction in
                // Read under the write lock: no letter the worker writes meanwhile is missed.
                let all = try transaction.deadLetters()
                let letters = all.filter { ids?.contains($0.id) ?? true }
                guard let parked = projection.parkedKeysView else {
                    return try Self.replay(letters, projection: projection, transaction: &transaction)
                }
                try Self.checkOrder(letters, among: all, pipeline: projection.name)
                return try Self.replayInKeyOrder(letters, among: all, parked: parked, projection: projection, transaction: &transaction)
            }
        } catch {
            throw ProjectorError(wrapping: error, doing: "dlq replay of \(projection.name)")
        }
    }

    /// Replays letters independently of each other (no parked keys).
    private static func replay(
        _ letters: [StoredDeadLetter], projection: any Projection, transaction: inout any ViewTransaction
    ) throws -> Outcome {
        var outcome = Outcome(replayed: [], stillFailing: [])
        for stored in letters {
            if let reason = try apply(stored.letter, projection: projection, transaction: &transaction) {
                outcome.stillFailing.append(Failure(id: stored.id, reason: reason))
            } else {
                outcome.replayed.append(stored.id)
            }
        }
        try finish(outcome, transaction: &transaction)
        return outcome
    }

    /// Replays letters keeping each key's order: a key is unparked before its first letter runs
    /// and parked again behind the first letter that still fails, or behind its earliest letter
    /// left unreplayed.
    private static func replayInKeyOrder(
        _ letters: [StoredDeadLetter], among all: [StoredDeadLetter], parked: Int, projection: any Projection,
        transaction: inout any ViewTransaction
    ) throws -> Outcome {
        var outcome = Outcome(replayed: [], stillFailing: [])
        var blockedBy: [String: Int64] = [:]
        var released: [String] = []
        for stored in letters {
            guard let key = stored.letter.parkKey else {
                if let reason = try apply(stored.letter, projection: projection, transaction: &transaction) {
                    outcome.stillFailing.append(Failure(id: stored.id, reason: reason))
                } else {
                    outcome.replayed.append(stored.id)
                }
                continue
            }
            if let head = blockedBy[key] {
                outcome.stillFailing.append(Failure(
                    id: stored.id, reason: "\(EventError.Code.parked): key \(key) stays parked behind dead letter \(head), which still fails"))
                continue
            }
            if !released.contains(key) {
                try transaction.apply([ViewChange(view: parked, key: [.text(key)], row: nil)])
                released.append(key)
            }
            if let reason = try apply(stored.letter, projection: projection, transaction: &transaction) {
                outcome.stillFailing.append(Failure(id: stored.id, reason: reason))
                blockedBy[key] = stored.id
                try park(key, behind: stored.letter, in: parked, transaction: &transaction)
            } else {
                outcome.replayed.append(stored.id)
            }
        }
        let replayed = Set(outcome.replayed)
        for key in released where blockedBy[key] == nil {
            if let next = all.first(where: { $0.letter.parkKey == key && !replayed.contains($0.id) }) {
                try park(key, behind: next.letter, in: parked, transaction: &transaction)
            }
        }
        try finish(outcome, transaction: &transaction)
        return outcome
    }

    /// Refuses a selection that holds a letter of a key but not an earlier letter of that key.
    private static func checkOrder(_ letters: [StoredDeadLetter], among all: [StoredDeadLetter], pipeline: String) throws {
        let chosen = Set(letters.map(\.id))
        for stored in letters {
            guard let key = stored.letter.parkKey,
                  let earlier = all.first(where: { $0.letter.parkKey == key && $0.id < stored.id && !chosen.contains($0.id) })
            else { continue }
            throw ProjectorError(
                code: .usage,
                message: "dlq replay of \(pipeline): dead letter \(stored.id) of key \(key) comes after dead letter "
                    + "\(earlier.id) of the same key, which is not selected; a key's letters apply in order: "
                    + "add --id \(earlier.id), or replay without --id")
        }
    }

    /// Parks `key` behind `letter`.
    private static func park(_ key: String, behind letter: DeadLetter, in parked: Int, transaction: inout any ViewTransaction) throws {
        let row = ParkedKeys.row(key: key, topic: letter.topic, partition: letter.partition, offset: letter.offset)
        try transaction.apply([ViewChange(view: parked, key: [.text(key)], row: row)])
    }

    /// Deletes the replayed letters and counts them.
    private static func finish(_ outcome: Outcome, transaction: inout any ViewTransaction) throws {
        try transaction.deleteDeadLetters(ids: outcome.replayed)
        if !outcome.replayed.isEmpty { try transaction.addCounters(["replayed": Int64(outcome.replayed.count)]) }
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
