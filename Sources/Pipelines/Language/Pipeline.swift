import Foundation
public import ProjectorModel

/// A parsed and validated projection pipeline.
///
/// ```swift
/// let pipeline = try Pipeline.load(path: "pipelines/order_summary.yaml")
/// let plan = Plan(pipeline)
/// ```
///
/// ## Topics
/// - ``Plan``
/// - ``PipelineError``
public struct Pipeline: Sendable {
    /// The pipeline name (`[a-z][a-z0-9_]*`), also the prefix of its internal tables.
    public var name: String
    /// The definition version the author bumps on each change.
    public var version: Int
    /// The source topics; `RawMessage.topic` indexes this list.
    public var topics: [String]
    /// What to do with a failing event.
    public var onError: ErrorPolicy
    /// What to do with an event type that has no handler.
    public var onUnknownType: UnknownTypePolicy
    /// The `dead_letter:` settings (only with `on_error: dead-letter`); defaults when not given.
    public var deadLetter: DeadLetterSettings
    /// The topics `emit:` operations may produce to (`emit_topics:`), in file order; empty when
    /// the pipeline emits nothing.
    public var emitTopics: [String] = []
    /// Whether the pipeline has `emit:` operations (then its plan writes `_projector_outbox_<name>`).
    public var emits: Bool { handlers.contains { $0.operations.contains { $0.emit != nil } } }
    /// Whether the pipeline has `schedule:` or `cancel_schedule:` operations (then its plan writes
    /// `_projector_timers_<name>` and `_projector_timer_queue_<name>`, and fires due timers).
    public var hasTimers: Bool { handlers.contains { $0.operations.contains { $0.schedule != nil } } }
    /// The declared views, in file order.
    public var views: [ViewDefinition]
    /// The event types with handlers, in file order (`"*"` and `_tombstone` included).
    public var eventTypes: [String] { handlers.map(\.type) }
    /// Hex SHA-256 of the normalised definition: comments, layout, flow/block style, mapping key
    /// order and expression spacing do not change it; any semantic change (the order of
    /// `columns:`, which is the tables' column order, included) does.
    public var hash: String

    var typePath: JSONPath
    var key: Expr?
    var versionPath: JSONPath?
    var filter: Expr?
    var dedupeBy: Expr?
    var handlers: [HandlerSpec]
    var upcasts: [String: [UpcastStep]]
    /// The `events:` declarations; nil when the pipeline has none (then nothing is checked).
    var events: [EventSchema]?
    /// The `tests:` section, run by `projector test`; not part of the hash (tests do not change what runs).
    public var tests: [PipelineTest] = []

    /// Parses and validates a definition.
    /// - Parameters:
    ///   - yaml: the YAML text.
    ///   - file: the name used in error locations.
    /// - Throws: `PipelineError` for the first problem, with every problem in `problems`.
    public init(yaml: String, file: String) throws(PipelineError) {
        var builder = PipelineBuilder(file: file, text: yaml)
        guard let pipeline = builder.build(), builder.problems.isEmpty else {
            var problems = builder.problems.sorted { ($0.line, $0.column) < ($1.line, $1.column) }
            if problems.isEmpty {
                problems = [PipelineError(code: .invalidValue, message: "invalid pipeline", file: file, line: 1, column: 1)]
            }
            var first = problems[0]
            first.problems = problems
            throw first
        }
        self = pipeline
    }

    /// Reads and validates the pipeline file at `path`.
    /// - Throws: `PipelineError` (code `unreadableFile` when the file cannot be read).
    public static func load(path: String) throws -> Pipeline {
        guard let data = FileManager.default.contents(atPath: path) else {
            var error = PipelineError(code: .unreadableFile, message: "cannot read the file", file: path, line: 0, column: 0)
            error.problems = [error]
            throw error
        }
        return try Pipeline(yaml: String(decoding: data, as: UTF8.self), file: path)
    }

    init(
        name: String, version: Int, topics: [String], onError: ErrorPolicy, onUnknownType: UnknownTypePolicy,
        views: [ViewDefinition], typePath: JSONPath, key: Expr?, versionPath: JSONPath?, filter: Expr?,
        dedupeBy: Expr?, handlers: [HandlerSpec], upcasts: [String: [UpcastStep]],
        deadLetter: DeadLetterSettings, events: [EventSchema]?
    ) {
        self.name = name
        self.version = version
        self.topics = topics
        self.onError = onError
        self.onUnknownType = onUnknownType
        self.views = views
        self.typePath = typePath
        self.key = key
        self.versionPath = versionPath
        self.filter = filter
        self.dedupeBy = dedupeBy
        self.handlers = handlers
        self.upcasts = upcasts
        self.deadLetter = deadLetter
        self.events = events
        self.hash = ""
        self.hash = DefinitionHash.hex(of: canonicalText)
    }
}
