public import Pipelines
public import Projector
public import ProjectorModel
public import Views

/// Runs a pipeline or a `CodeProjection` over messages written in the test, into a real SQLite
/// store in memory, and reads the rows back: no broker, no files.
///
/// Each `send` is one batch through the worker's own path (the projection, then rows, dead
/// letters, counters and checkpoints in one store transaction), so what a test sees here is what
/// `projector run` writes for the same messages in the same order.
///
/// ```swift
/// let harness = try ProjectionHarness(pipelineAt: "pipelines/order_summary.yaml")
/// try harness.send([
///     TestMessage(#"{"eventType":"OrderCreated","data":{"orderId":"o1","customerId":"c1","totalAmount":10,"items":[]}}"#, key: "o1"),
/// ])
/// #expect(try harness.row("order_summary", key: .text("o1"))?["status"] == .text("created"))
/// ```
///
/// - Important: Use one harness from one thread at a time, like a worker.
public final class ProjectionHarness {
    /// What one `send` did.
    public struct Batch: Sendable {
        /// Events by outcome.
        public var counters: PlanResult.Counters
        /// The events that failed and were skipped or dead-lettered.
        public var failedEvents: [EventError]
        /// The event that stopped the batch under `on_error: fail` (the events before it are applied).
        public var failure: EventError?
    }

    /// The projection run.
    public let projection: any Projection
    /// The in-memory store the views live in, for anything the harness does not wrap.
    public let store: any ViewStore
    private let applier: BatchApplier
    private var nextOffsets: [String: [Int32: Int64]] = [:]

    /// Prepares `projection`'s views in a new in-memory store.
    /// - Throws: the store's error when the views cannot be created.
    public init(_ projection: any Projection) throws {
        self.projection = projection
        let store = try SQLiteViewStore.inMemory()
        try store.prepare(
            pipeline: projection.name, version: projection.version, hash: projection.definitionHash, views: projection.views)
        self.store = store
        applier = BatchApplier(projection: projection, store: store, target: .live)
    }

    /// Prepares a pipeline definition given as YAML text.
    /// - Throws: `PipelineError` with `file:line:column` when the definition is invalid.
    public convenience init(yaml: String, file: String = "pipeline.yaml") throws {
        try self.init(Plan(Pipeline(yaml: yaml, file: file)))
    }

    /// Prepares the pipeline in the YAML file at `path`.
    /// - Throws: `PipelineError` when the file is missing or invalid.
    public convenience init(pipelineAt path: String) throws {
        try self.init(Plan(Pipeline.load(path: path)))
    }

    /// Applies `messages` as one batch, in order; offsets continue per topic and partition.
    /// - Returns: the batch's counters and failed events.
    /// - Throws: `ProjectorError` `.usage` for a topic the projection does not read; the store's error.
    @discardableResult
    public func send(_ messages: [TestMessage]) throws -> Batch {
        var owned: [UnsafeMutableRawBufferPointer] = []
        defer { for buffer in owned { buffer.deallocate() } }
        func borrow(_ text: String?) -> UnsafeRawBufferPointer? {
            guard let text else { return nil }
            let bytes = Array(text.utf8)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
            buffer.copyBytes(from: bytes)
            owned.append(buffer)
            return UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count])
        }
        var raw: [RawMessage] = []
        for message in messages {
            let topic = message.topic ?? projection.topics[0]
            guard let index = projection.topics.firstIndex(of: topic) else {
                throw ProjectorError(
                    code: .usage,
                    message: "pipeline \(projection.name) does not read topic \(topic) (its topics: "
                        + "\(projection.topics.joined(separator: ", ")))")
            }
            let offset = nextOffsets[topic, default: [:]][message.partition, default: 0]
            nextOffsets[topic, default: [:]][message.partition] = offset + 1
            raw.append(RawMessage(
                key: borrow(message.key), value: borrow(message.value), topic: index, partition: message.partition,
                offset: offset, timestamp: message.timestamp))
        }
        let outcome = try raw.withUnsafeBufferPointer { buffer in
            try applier.apply(buffer, headers: { index in
                messages[index].headers.map { DeadLetterHeader(name: $0.name, value: $0.value.map { Array($0.utf8) }) }
            })
        }
        return Batch(counters: outcome.counters, failedEvents: outcome.failedEvents, failure: outcome.failure?.error)
    }

    /// Applies one message as a batch.
    @discardableResult
    public func send(_ message: TestMessage) throws -> Batch { try send([message]) }

    /// The rows of `view` ordered by key, each as column name → value.
    public func rows(_ view: String) throws -> [[String: ViewValue]] {
        let rows = try store.rows(ofView: view, limit: nil)
        return rows.rows.map { Dictionary(uniqueKeysWithValues: zip(rows.columns, $0)) }
    }

    /// The row of `view` with this key (values in key column order), as column name → value, or `nil`.
    public func row(_ view: String, key: ViewValue...) throws -> [String: ViewValue]? {
        guard let definition = projection.views.first(where: { $0.name == view }),
              let row = try store.row(inView: view, key: key) else { return nil }
        return Dictionary(uniqueKeysWithValues: zip(definition.columns.map(\.name), row))
    }

    /// The dead letters the projection kept, ordered by id.
    public func deadLetters() throws -> [StoredDeadLetter] {
        try store.deadLetters(pipeline: projection.name, limit: nil)
    }

    /// The projection's stored checkpoints: the next offset per topic and partition.
    public func checkpoints() throws -> [Checkpoint] {
        try store.checkpoints(pipeline: projection.name)
    }
}
