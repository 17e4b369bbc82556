public import Pipelines
public import ProjectorModel

/// What a worker runs: a compiled YAML pipeline (`Plan`) or a projection written in Swift
/// (``CodeProjection``).
///
/// A projection turns one batch of messages into the batch's view changes without touching
/// storage; the worker applies them, with the checkpoints, in one store transaction.
public protocol Projection: Sendable {
    /// The pipeline name: the store keys identity, checkpoints and counters on it.
    var name: String { get }
    /// The definition's version.
    var version: Int { get }
    /// The identity of the definition: a view built by another hash is refused.
    var definitionHash: String { get }
    /// The source topics; `RawMessage.topic` indexes this array.
    var topics: [String] { get }
    /// Every table the projection reads and writes; `ViewChange.view` indexes this array.
    var views: [ViewDefinition] { get }
    /// What happens to an event that fails.
    var errorPolicy: ErrorPolicy { get }
    /// The index in ``views`` of the parked keys table (`dead_letter.park_key`), or nil.
    var parkedKeysView: Int? { get }
    /// The topic dead letters are produced to (`dead_letter.topic`), or nil.
    var deadLetterTopic: String? { get }
    /// The index in ``views`` of the outbox of emitted records (`emit:`), or nil.
    var outboxView: Int? { get }
    /// The topics emitted records go to (`emit_topics`); the worker checks they exist.
    var emitTopics: [String] { get }

    /// Runs a batch.
    /// - Parameters:
    ///   - messages: the batch in consumption order; its buffers are valid only during the call.
    ///   - rows: the current rows, read inside the batch's store transaction.
    /// - Throws: only what `rows` throws; event failures are in the result.
    func run(_ messages: UnsafeBufferPointer<RawMessage>, rows: inout some RowReader) throws -> PlanResult
}

extension Projection {
    /// No parked keys unless the projection declares them.
    public var parkedKeysView: Int? { nil }
    /// No dead-letter topic unless the projection declares one.
    public var deadLetterTopic: String? { nil }
    /// No outbox unless the projection declares one.
    public var outboxView: Int? { nil }
    /// No emit topics unless the projection declares them.
    public var emitTopics: [String] { [] }
}

extension Projection {
    /// Runs a batch into `set`, a change set kept across batches (a rebuild's window): the
    /// result's `changes` are empty, `set.changes` has them. A plan runs on the set itself; any
    /// other projection reads through it and its changes are folded in.
    /// - Throws: only what `rows` throws.
    package func run(_ messages: UnsafeBufferPointer<RawMessage>, rows: inout some RowReader, into set: inout ChangeSet) throws -> PlanResult {
        if let plan = self as? Plan { return try plan.run(messages, rows: &rows, into: &set) }
        var result: PlanResult
        do {
            // Scoped: the reader's copy of the set is gone before the set changes (no copy on write).
            var reader = ChangeSetRows(set: set, base: rows)
            result = try run(messages, rows: &reader)
            rows = reader.base
        }
        for change in result.changes {
            let entry = try set.entry(view: change.view, key: change.key, rows: &rows)
            set.set(entry, change.row)
        }
        set.beginEvent()  // drops the undo log of the fold
        result.changes = []
        return result
    }
}

/// Reads rows through a change set: what the set holds, else the base reader's row.
private struct ChangeSetRows<Base: RowReader>: RowReader {
    let set: ChangeSet
    var base: Base

    mutating func row(in view: Int, key: [ViewValue]) throws -> [ViewValue]? {
        if let held = set.held(view: view, key: key) { return held }
        return try base.row(in: view, key: key)
    }

    /// The base reader's range: only timers read key ranges, and a projection in Swift has none.
    mutating func rows(in view: Int, keyPrefix: [ViewValue], upTo: ViewValue) throws -> [[ViewValue]] {
        try base.rows(in: view, keyPrefix: keyPrefix, upTo: upTo)
    }
}

extension Plan: Projection {
    /// The pipeline's name.
    public var name: String { pipeline.name }
    /// The pipeline's version.
    public var version: Int { pipeline.version }
    /// The hash of the normalised pipeline definition.
    public var definitionHash: String { pipeline.hash }
    /// The pipeline's source topics.
    public var topics: [String] { pipeline.topics }
    /// The pipeline's `on_error` policy.
    public var errorPolicy: ErrorPolicy { pipeline.onError }
    /// The pipeline's `emit_topics`.
    public var emitTopics: [String] { pipeline.emitTopics }
    /// The pipeline's `dead_letter.topic` under `on_error: dead-letter`.
    public var deadLetterTopic: String? { pipeline.onError == .deadLetter ? pipeline.deadLetter.topic : nil }
}
