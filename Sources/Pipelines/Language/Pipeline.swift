import Foundation
import Yams
public import ProjectorModel

/// One operation of a handler.
struct OperationSpec: Sendable {
    enum Kind: String, Sendable { case upsert, update, delete }
    struct Assignment: Sendable {
        var column: Int
        var expr: Expr
    }
    var kind: Kind
    var view: Int
    /// Key expressions, in the order of the view's `keyColumns`.
    var key: [Expr]
    var set: [Assignment]
    var when: Expr?
}

/// The operations of one event type.
struct HandlerSpec: Sendable {
    var type: String
    var operations: [OperationSpec]
}

/// One upcast step: turns version `from` into `from + 1`.
struct UpcastStep: Sendable {
    struct Rename: Sendable { var from: JSONPath; var to: JSONPath }
    struct Default: Sendable { var path: JSONPath; var value: Expr }
    var from: Int
    var renames: [Rename]
    var defaults: [Default]
}

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
        deadLetter: DeadLetterSettings = DeadLetterSettings()
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
        self.hash = ""
        self.hash = SHA256.hex(of: canonicalText)
    }

    /// The normalised definition the hash is computed from.
    var canonicalText: String {
        var out = "projector-pipeline/1\nname=\(name)\nversion=\(version)\ntopics=\(topics.joined(separator: ","))\n"
        out += "type=\(typePath)\nkey=\(key?.canonical ?? "-")\nversion_path=\(versionPath?.description ?? "-")\n"
        out += "filter=\(filter?.canonical ?? "-")\ndedupe_by=\(dedupeBy?.canonical ?? "-")\n"
        out += "on_error=\(onError.rawValue)\non_unknown_type=\(onUnknownType.rawValue)\n"
        for view in views.sorted(by: { $0.name < $1.name }) {
            out += "view \(view.name) key=\(view.keyColumns.map { view.columns[$0].name }.joined(separator: ","))\n"
            for column in view.columns {
                out += "  column \(column.name) \(column.type.rawValue) \(column.defaultValue.canonical)\n"
            }
        }
        for handler in handlers.sorted(by: { $0.type < $1.type }) {
            out += "on \(handler.type.debugDescription)\n"
            for op in handler.operations {
                let view = views[op.view]
                out += "  \(op.kind.rawValue) \(view.name) key=\(op.key.map(\.canonical).joined(separator: ","))"
                out += " when=\(op.when?.canonical ?? "-")\n"
                for assignment in op.set.sorted(by: { view.columns[$0.column].name < view.columns[$1.column].name }) {
                    out += "    set \(view.columns[assignment.column].name)=\(assignment.expr.canonical)\n"
                }
            }
        }
        for type in upcasts.keys.sorted() {
            out += "upcast \(type.debugDescription)\n"
            for step in upcasts[type]! {
                out += "  from \(step.from)\n"
                for r in step.renames.sorted(by: { $0.from.description < $1.from.description }) { out += "    rename \(r.from)=\(r.to)\n" }
                for d in step.defaults.sorted(by: { $0.path.description < $1.path.description }) { out += "    default \(d.path)=\(d.value.canonical)\n" }
            }
        }
        // Only when set, so that pipelines without `dead_letter:` keep the hash they always had.
        if deadLetter.isSet {
            out += "dead_letter park_key=\(deadLetter.parksKey) topic=\(deadLetter.topic ?? "-")\n"
        }
        return out
    }
}

extension ViewValue {
    var canonical: String {
        switch self {
        case .null: return "null"
        case .integer(let v): return "i\(v)"
        case .real(let v): return "r\(v)"
        case .text(let s): return s.debugDescription
        }
    }
}

/// Static types inferred at validation, to reject expressions that can never work.
enum StaticType: Equatable {
    case unknown, null, integer, real, boolean, text

    var isNumeric: Bool { self == .integer || self == .real }
    var name: String {
        switch self {
        case .unknown: return "unknown"
        case .null: return "null"
        case .integer: return "integer"
        case .real: return "real"
        case .boolean: return "boolean"
        case .text: return "text"
        }
    }
}

/// Builds a `Pipeline` from the composed YAML tree, collecting every problem with its position.
struct PipelineBuilder {
    let file: String
    let text: String
    var problems: [PipelineError] = []
    /// Positions of mappings that had an unknown key: a likely typo, so a "missing key" there is
    /// not reported on top of it.
    var mappingsWithUnknownKeys: Set<String> = []

    init(file: String, text: String) {
        self.file = file
        self.text = text
    }

    static let nameRule = "[a-z_][a-z0-9_]*"

    mutating func report(_ code: PipelineError.Code, _ message: String, at node: Node?) {
        if code == .missingKey, let node, mappingsWithUnknownKeys.contains("\(node.position)") { return }
        let (line, column) = node?.position ?? (1, 1)
        problems.append(PipelineError(code: code, message: message, file: file, line: line, column: column))
    }

    mutating func report(_ code: PipelineError.Code, _ message: String, line: Int, column: Int) {
        problems.append(PipelineError(code: code, message: message, file: file, line: line, column: column))
    }

    /// The position of the character at `offset` of a scalar's expression text.
    func position(in node: Node, offset: Int) -> (Int, Int) {
        let (line, column) = node.position
        guard case .scalar(let scalar) = node, !scalar.string.contains("\n") else { return (line, column) }
        switch scalar.style {
        case .plain, .any: return (line, column + offset)
        case .singleQuoted, .doubleQuoted: return (line, column + 1 + offset)
        default: return (line, column)
        }
    }

    // MARK: Shape helpers

    /// The pairs of a mapping with string keys, reporting unknown keys (with a did-you-mean).
    mutating func mapping(_ node: Node, what: String, allowed: [String]?) -> [(key: String, keyNode: Node, value: Node)]? {
        guard case .mapping(let mapping) = node else {
            report(.invalidValue, "\(what) must be a mapping, not \(node.shapeName)", at: node)
            return nil
        }
        var pairs: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                report(.invalidValue, "keys of \(what) must be plain names", at: keyNode)
                continue
            }
            if let allowed, !allowed.contains(scalar.string) {
                let hint = didYouMean(scalar.string, among: allowed).map { "; did you mean `\($0)`?" } ?? " (allowed: \(allowed.joined(separator: ", ")))"
                report(.unknownKey, "unknown key `\(scalar.string)` in \(what)\(hint)", at: keyNode)
                mappingsWithUnknownKeys.insert("\(node.position)")
                continue
            }
            pairs.append((scalar.string, keyNode, value))
        }
        return pairs
    }

    mutating func scalar(_ node: Node, what: String) -> String? {
        guard case .scalar(let scalar) = node else {
            report(.invalidValue, "\(what) must be a single value, not \(node.shapeName)", at: node)
            return nil
        }
        return scalar.string
    }

    mutating func name(_ node: Node, what: String, allowReservedCheck: Bool = true) -> String? {
        guard let value = scalar(node, what: what) else { return nil }
        return checkName(value, what: what, at: node) ? value : nil
    }

    mutating func checkName(_ value: String, what: String, at node: Node) -> Bool {
        let scalars = Array(value.unicodeScalars)
        let valid = !scalars.isEmpty && scalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "_" }
            && !(scalars[0] >= "0" && scalars[0] <= "9")
        if !valid {
            report(.invalidName, "\(what) `\(value)` must match \(Self.nameRule) (lower-case letters, digits, `_`; SQL-looking or quoted names are not allowed)", at: node)
            return false
        }
        if value.hasPrefix("_projector") {
            report(.reservedName, "\(what) `\(value)` must not start with `_projector` (reserved for internal tables)", at: node)
            return false
        }
        return true
    }

    // MARK: Expressions

    struct Scope {
        var columns: [ColumnDefinition]?
        var rowDenied: String?
        var pathsDenied: String?
        var constantOnly = false
    }

    mutating func expression(_ node: Node, what: String, scope: Scope) -> (Expr, StaticType)? {
        guard let source = scalar(node, what: what) else { return nil }
        let expr: Expr
        do {
            expr = try ExpressionParser.parse(source)
        } catch {
            let (line, column) = position(in: node, offset: error.offset)
            report(.invalidExpression, "invalid expression in \(what): \(error.message)", line: line, column: column)
            return nil
        }
        let before = problems.count
        let type = check(expr, in: node, scope: scope, what: what)
        if scope.constantOnly, !expr.isConstant, problems.count == before {
            report(.invalidExpression, "\(what) must be a constant (a number, a 'string', true, false or null)", at: node)
        }
        return problems.count == before ? (expr, type) : nil
    }

    private mutating func check(_ expr: Expr, in node: Node, scope: Scope, what: String, aggregateArgument: Bool = false) -> StaticType {
        func fail(_ code: PipelineError.Code, _ message: String, _ at: Expr) {
            let (line, column) = position(in: node, offset: at.offset)
            report(code, message, line: line, column: column)
        }
        switch expr.kind {
        case .null: return .null
        case .integer: return .integer
        case .real: return .real
        case .boolean: return .boolean
        case .text: return .text
        case .path(let path):
            if let reason = scope.pathsDenied { fail(.invalidPath, "\(what) cannot read `\(path)`: \(reason)", expr); return .unknown }
            if path.hasWildcard && !aggregateArgument {
                fail(.invalidPath, "`\(path)` has `[*]`, which is only allowed directly inside sum() or count()", expr)
            }
            return .unknown
        case .meta(let field):
            switch field {
            case .key, .topic: return .text
            case .partition, .offset, .timestamp: return .integer
            }
        case .column(let name):
            if let reason = scope.rowDenied {
                fail(.keyReadsRow, "\(what) cannot read the row column `\(name)`: \(reason)", expr)
                return .unknown
            }
            guard let columns = scope.columns else { return .unknown }
            guard let column = columns.first(where: { $0.name == name }) else {
                let hint = didYouMean(name, among: columns.map(\.name)).map { "; did you mean `\($0)`?" } ?? ""
                fail(.unknownColumn, "unknown column `\(name)`\(hint) (event fields are read as `$.\(name)`)", expr)
                return .unknown
            }
            switch column.type {
            case .text, .json: return .text
            case .integer: return .integer
            case .real: return .real
            case .boolean: return .boolean
            }
        case .unary(let op, let operand):
            let t = check(operand, in: node, scope: scope, what: what)
            switch op {
            case .negate:
                if t == .text || t == .boolean { fail(.typeMismatch, "`-` needs a number, not \(t.name)", expr) }
                return t == .null ? .null : (t.isNumeric ? t : .unknown)
            case .not:
                if t.isNumeric || t == .text { fail(.typeMismatch, "`not` needs a boolean, not \(t.name)", expr) }
                return .boolean
            }
        case .binary(let op, let l, let r):
            let lt = check(l, in: node, scope: scope, what: what)
            let rt = check(r, in: node, scope: scope, what: what)
            switch op {
            case .add, .subtract, .multiply, .divide, .remainder:
                for t in [lt, rt] where t == .text || t == .boolean {
                    fail(.typeMismatch, "`\(op.rawValue)` needs numbers, not \(t.name)\(t == .text && op == .add ? " (concatenation is `||`)" : "")", expr)
                    return .unknown
                }
                if op == .remainder && (lt == .real || rt == .real) {
                    fail(.typeMismatch, "`%` needs integers, not real", expr)
                }
                if op == .divide { return .real }
                if lt == .integer && rt == .integer { return .integer }
                if lt.isNumeric && rt.isNumeric { return .real }
                return .unknown
            case .concat: return .text
            case .and, .or:
                for t in [lt, rt] where t.isNumeric || t == .text {
                    fail(.typeMismatch, "`\(op.rawValue)` needs booleans, not \(t.name)", expr)
                }
                return .boolean
            default:
                if lt == .null || rt == .null {
                    fail(.typeMismatch, "a comparison with null is always null (never true); use coalesce(x, ...) to test for a missing value", expr)
                    return .boolean
                }
                let known: Set<StaticType> = [.integer, .real, .text, .boolean]
                if known.contains(lt), known.contains(rt), !(lt.isNumeric && rt.isNumeric), lt != rt {
                    fail(.typeMismatch, "cannot compare \(lt.name) with \(rt.name)", expr)
                }
                return .boolean
            }
        case .call(let function, let arguments):
            let aggregate = function == .sum || function == .count
            if aggregate {
                guard case .path(let path) = arguments[0].kind, path.hasWildcard else {
                    fail(.invalidExpression, "\(function.rawValue)() takes a path with `[*]`, such as `\(function.rawValue)($.items[*]\(function == .sum ? ".qty" : ""))`", expr)
                    return .unknown
                }
            }
            let types = arguments.map { check($0, in: node, scope: scope, what: what, aggregateArgument: aggregate) }
            switch function {
            case .coalesce:
                let known = types.filter { $0 != .null && $0 != .unknown }
                return types.contains(.unknown) ? .unknown : (Set(known.map(\.name)).count == 1 ? known[0] : .unknown)
            case .len, .count: return .integer
            case .lower, .upper:
                if types[0].isNumeric || types[0] == .boolean { fail(.typeMismatch, "\(function.rawValue)() needs text, not \(types[0].name)", expr) }
                return .text
            case .concat: return .text
            case .min, .max:
                let known = Set(types.filter { $0 != .unknown && $0 != .null }.map { $0.isNumeric ? "number" : $0.name })
                if known.count > 1 { fail(.typeMismatch, "\(function.rawValue)() needs arguments of one type", expr) }
                if types.allSatisfy({ $0 == .integer }) { return .integer }
                return types.allSatisfy(\.isNumeric) ? .real : .unknown
            case .abs:
                if types[0] == .text || types[0] == .boolean { fail(.typeMismatch, "abs() needs a number, not \(types[0].name)", expr) }
                return types[0].isNumeric ? types[0] : .unknown
            case .round:
                for t in types where t == .text || t == .boolean { fail(.typeMismatch, "round() needs numbers, not \(t.name)", expr) }
                if types.count == 2, types[1] == .real { fail(.typeMismatch, "round()'s digits must be an integer", expr) }
                return arguments.count == 1 ? .integer : .real
            case .sum: return .unknown
            case .if:
                if types[0] != .boolean && types[0] != .unknown && types[0] != .null {
                    fail(.typeMismatch, "if()'s condition must be a boolean, not \(types[0].name)", expr)
                }
                let known = types.dropFirst().filter { $0 != .null && $0 != .unknown }
                return types.dropFirst().contains(.unknown) ? .unknown : (Set(known.map(\.name)).count == 1 ? known[0] : .unknown)
            }
        }
    }

    /// Whether a value of static type `type` can ever be stored in a column of type `column`.
    static func fits(_ type: StaticType, in column: ColumnType) -> Bool {
        switch (type, column) {
        case (.unknown, _), (.null, _): return true
        case (.text, .text), (.integer, .integer), (.integer, .real), (.real, .real), (.boolean, .boolean): return true
        case (_, .json): return true
        default: return false
        }
    }

    // MARK: The document

    mutating func build() -> Pipeline? {
        let root: Node
        do {
            guard let node = try YAMLReader.read(text) else {
                report(.missingKey, "the file is empty; a pipeline needs `name`, `version`, `source`, `views` and `on`", line: 1, column: 1)
                return nil
            }
            root = node
        } catch {
            report(error.code, error.message, line: error.line, column: error.column)
            return nil
        }
        let topKeys = ["name", "version", "source", "on_error", "dead_letter", "on_unknown_type", "views", "on", "upcast"]
        guard let pairs = mapping(root, what: "the pipeline", allowed: topKeys) else { return nil }
        func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
        for key in ["name", "version", "source", "views", "on"] where value(key) == nil {
            report(.missingKey, "missing key `\(key)` in the pipeline", at: root)
        }

        var name = "pipeline"
        if let node = value("name"), let n = scalar(node, what: "`name`") {
            if n.hasPrefix("_") || !checkName(n, what: "pipeline name", at: node) {
                if n.hasPrefix("_") { report(.invalidName, "pipeline name `\(n)` must match [a-z][a-z0-9_]*", at: node) }
            } else {
                name = n
            }
        }
        var version = 1
        if let node = value("version"), let v = scalar(node, what: "`version`") {
            if let n = Int(v), n >= 1 { version = n } else { report(.invalidValue, "`version` must be a positive integer, not `\(v)`", at: node) }
        }
        var onError = ErrorPolicy.fail
        if let node = value("on_error"), let v = scalar(node, what: "`on_error`") {
            if let p = ErrorPolicy(rawValue: v) { onError = p } else {
                let hint = didYouMean(v, among: ErrorPolicy.allCases.map(\.rawValue)).map { "; did you mean `\($0)`?" } ?? ""
                report(.invalidValue, "`on_error` must be fail, skip or dead-letter, not `\(v)`\(hint)", at: node)
            }
        }
        var onUnknown = UnknownTypePolicy.ignore
        if let node = value("on_unknown_type"), let v = scalar(node, what: "`on_unknown_type`") {
            if let p = UnknownTypePolicy(rawValue: v) { onUnknown = p } else {
                report(.invalidValue, "`on_unknown_type` must be ignore or error, not `\(v)`", at: node)
            }
        }

        // source
        var topics: [String] = []
        var typePath = JSONPath(components: [.member("eventType")])
        var key: Expr?
        var versionPath: JSONPath?
        var filter: Expr?
        var dedupeBy: Expr?
        if let sourceNode = value("source"), let source = mapping(sourceNode, what: "`source`", allowed: ["topics", "type", "key", "filter", "dedupe_by", "version"]) {
            func sourceValue(_ key: String) -> Node? { source.first { $0.key == key }?.value }
            for required in ["topics", "type"] where sourceValue(required) == nil {
                report(.missingKey, "missing key `\(required)` in `source`", at: sourceNode)
            }
            if let node = sourceValue("topics") {
                if case .sequence(let list) = node {
                    for item in list {
                        if let topic = scalar(item, what: "a topic") {
                            if topic.isEmpty { report(.invalidValue, "a topic name cannot be empty", at: item) }
                            else if topics.contains(topic) { report(.duplicateKey, "topic `\(topic)` is listed twice", at: item) }
                            else { topics.append(topic) }
                        }
                    }
                    if list.isEmpty { report(.invalidValue, "`topics` needs at least one topic", at: node) }
                } else if let topic = scalar(node, what: "`topics`") {
                    topics = [topic]
                }
            }
            let eventScope = Scope(columns: nil, rowDenied: "source expressions see only the event")
            if let node = sourceValue("type") { typePath = path(node, what: "`source.type`") ?? typePath }
            if let node = sourceValue("version") { versionPath = path(node, what: "`source.version`") }
            if let node = sourceValue("key") { key = expression(node, what: "`source.key`", scope: eventScope)?.0 }
            if let node = sourceValue("filter"), let (e, t) = expression(node, what: "`source.filter`", scope: eventScope) {
                if t != .boolean && t != .unknown && t != .null { report(.typeMismatch, "`filter` must be a boolean expression, not \(t.name)", at: node) }
                filter = e
            }
            if let node = sourceValue("dedupe_by") { dedupeBy = expression(node, what: "`source.dedupe_by`", scope: eventScope)?.0 }
        }

        // views
        var views: [ViewDefinition] = []
        var viewNodes: [Node] = []
        if let viewsNode = value("views"), let list = mapping(viewsNode, what: "`views`", allowed: nil) {
            if list.isEmpty { report(.invalidValue, "`views` needs at least one view", at: viewsNode) }
            for entry in list {
                guard checkName(entry.key, what: "view name", at: entry.keyNode) else { continue }
                if let view = buildView(entry.key, entry.value, keyNode: entry.keyNode) {
                    views.append(view)
                    viewNodes.append(entry.keyNode)
                }
            }
        }

        // on
        var handlers: [HandlerSpec] = []
        if let onNode = value("on"), let list = mapping(onNode, what: "`on`", allowed: nil) {
            for entry in list {
                if entry.key.isEmpty { report(.invalidValue, "an event type cannot be empty", at: entry.keyNode); continue }
                guard case .sequence(let ops) = entry.value else {
                    report(.invalidValue, "the handler of `\(entry.key)` must be a list of operations (`- upsert: view`)", at: entry.value)
                    continue
                }
                let isTombstone = entry.key == "_tombstone"
                var operations: [OperationSpec] = []
                for opNode in ops {
                    if let op = buildOperation(opNode, views: views, tombstone: isTombstone) { operations.append(op) }
                }
                handlers.append(HandlerSpec(type: entry.key, operations: operations))
            }
        }

        // upcast
        var upcasts: [String: [UpcastStep]] = [:]
        if let upcastNode = value("upcast"), let list = mapping(upcastNode, what: "`upcast`", allowed: nil) {
            if versionPath == nil {
                report(.missingKey, "`upcast` needs `source.version` (for example `version: $.version`)", at: upcastNode)
            }
            let types = handlers.map(\.type).filter { $0 != "*" && $0 != "_tombstone" }
            for entry in list {
                if !types.contains(entry.key) {
                    let hint = didYouMean(entry.key, among: types).map { "; did you mean `\($0)`?" } ?? ""
                    report(.unknownKey, "`upcast` names `\(entry.key)`, which has no handler in `on`\(hint)", at: entry.keyNode)
                    continue
                }
                guard case .sequence(let stepNodes) = entry.value else {
                    report(.invalidValue, "the upcast of `\(entry.key)` must be a list of steps (`- from: 1`)", at: entry.value)
                    continue
                }
                var steps: [UpcastStep] = []
                for stepNode in stepNodes {
                    guard let step = buildUpcastStep(stepNode) else { continue }
                    if steps.contains(where: { $0.from == step.from }) {
                        report(.duplicateKey, "two upcast steps of `\(entry.key)` start from version \(step.from)", at: stepNode)
                        continue
                    }
                    steps.append(step)
                }
                upcasts[entry.key] = steps.sorted { $0.from < $1.from }
            }
        }

        var deadLetter = DeadLetterSettings()
        if let node = value("dead_letter") {
            deadLetter = buildDeadLetter(node, onError: onError, onErrorNode: value("on_error"), topics: topics)
        }

        guard problems.isEmpty else { return nil }
        return Pipeline(
            name: name, version: version, topics: topics, onError: onError, onUnknownType: onUnknown, views: views,
            typePath: typePath, key: key, versionPath: versionPath, filter: filter, dedupeBy: dedupeBy,
            handlers: handlers, upcasts: upcasts, deadLetter: deadLetter
        )
    }

    mutating func path(_ node: Node, what: String) -> JSONPath? {
        guard let text = scalar(node, what: what) else { return nil }
        switch JSONPath.parse(text) {
        case .success(let path):
            if path.hasWildcard {
                report(.invalidPath, "\(what) cannot use `[*]`", at: node)
                return nil
            }
            return path
        case .failure(let error):
            let (line, column) = position(in: node, offset: error.offset)
            report(.invalidPath, "invalid path in \(what): \(error.message)", line: line, column: column)
            return nil
        }
    }

    mutating func buildView(_ name: String, _ node: Node, keyNode: Node) -> ViewDefinition? {
        guard let pairs = mapping(node, what: "view `\(name)`", allowed: ["key", "columns"]) else { return nil }
        guard let columnsNode = pairs.first(where: { $0.key == "columns" })?.value else {
            report(.missingKey, "missing key `columns` in view `\(name)`", at: node)
            return nil
        }
        guard let keyList = pairs.first(where: { $0.key == "key" })?.value else {
            report(.missingKey, "missing key `key` in view `\(name)` (the list of its key columns)", at: node)
            return nil
        }
        var columns: [ColumnDefinition] = []
        guard let columnPairs = mapping(columnsNode, what: "`columns` of view `\(name)`", allowed: nil) else { return nil }
        for entry in columnPairs {
            guard checkName(entry.key, what: "column name", at: entry.keyNode) else { continue }
            var typeNode = entry.value
            var defaultNode: Node?
            if case .mapping = entry.value {
                guard let spec = mapping(entry.value, what: "column `\(entry.key)`", allowed: ["type", "default"]) else { continue }
                guard let t = spec.first(where: { $0.key == "type" })?.value else {
                    report(.missingKey, "missing key `type` in column `\(entry.key)`", at: entry.value)
                    continue
                }
                typeNode = t
                defaultNode = spec.first { $0.key == "default" }?.value
            }
            guard let typeName = scalar(typeNode, what: "the type of column `\(entry.key)`") else { continue }
            guard let type = ColumnType(rawValue: typeName) else {
                let hint = didYouMean(typeName.lowercased(), among: ColumnType.allCases.map(\.rawValue)).map { "; did you mean `\($0)`?" } ?? ""
                report(.unknownType, "unknown column type `\(typeName)`\(hint) (types: text, integer, real, boolean, json)", at: typeNode)
                continue
            }
            var defaultValue: ViewValue
            switch type {
            case .integer, .boolean: defaultValue = .integer(0)
            case .real: defaultValue = .real(0)
            case .text, .json: defaultValue = .null
            }
            if let defaultNode, let (expr, staticType) = expression(defaultNode, what: "the default of `\(entry.key)`", scope: Scope(columns: nil, rowDenied: "a default is a constant", pathsDenied: "a default is a constant", constantOnly: true)) {
                if !Self.fits(staticType, in: type) {
                    report(.typeMismatch, "the default of `\(entry.key)` is \(staticType.name), not \(type.rawValue)", at: defaultNode)
                } else {
                    do {
                        defaultValue = try Evaluator.constant(expr, for: type)
                    } catch {
                        report(.invalidValue, "the default of `\(entry.key)` fails: \(error.message)", at: defaultNode)
                    }
                }
            }
            columns.append(ColumnDefinition(name: entry.key, type: type, defaultValue: defaultValue))
        }
        if columns.isEmpty {
            if columnPairs.isEmpty { report(.invalidValue, "view `\(name)` needs at least one column", at: columnsNode) }
            return nil
        }
        var keyColumns: [Int] = []
        let keyNames: [(String, Node)]
        switch keyList {
        case .sequence(let items): keyNames = items.compactMap { item in scalar(item, what: "a key column").map { ($0, item) } }
        case .scalar(let s): keyNames = [(s.string, keyList)]
        default: report(.invalidValue, "`key` of view `\(name)` must be a list of column names", at: keyList); return nil
        }
        if keyNames.isEmpty { report(.missingKeyColumn, "view `\(name)` needs at least one key column", at: keyList); return nil }
        for (keyName, node) in keyNames {
            guard let index = columns.firstIndex(where: { $0.name == keyName }) else {
                let hint = didYouMean(keyName, among: columns.map(\.name)).map { "; did you mean `\($0)`?" } ?? ""
                report(.unknownColumn, "key column `\(keyName)` is not a column of view `\(name)`\(hint)", at: node)
                continue
            }
            if keyColumns.contains(index) { report(.duplicateKey, "key column `\(keyName)` is listed twice", at: node); continue }
            if columns[index].type == .json { report(.invalidValue, "key column `\(keyName)` cannot be of type json", at: node); continue }
            keyColumns.append(index)
        }
        guard keyColumns.count == keyNames.count else { return nil }
        return ViewDefinition(name: name, columns: columns, keyColumns: keyColumns)
    }

    /// The index of column `name` of `view`, or nil after reporting it unknown (with a did-you-mean) at `node`.
    mutating func column(_ name: String, of view: ViewDefinition, at node: Node) -> Int? {
        if let index = view.columns.firstIndex(where: { $0.name == name }) { return index }
        let hint = didYouMean(name, among: view.columns.map(\.name)).map { "; did you mean `\($0)`?" } ?? ""
        report(.unknownColumn, "unknown column `\(name)` in view `\(view.name)`\(hint)", at: node)
        return nil
    }

    mutating func buildOperation(_ node: Node, views: [ViewDefinition], tombstone: Bool) -> OperationSpec? {
        let allowed = ["upsert", "update", "delete", "key", "set", "when"]
        guard let pairs = mapping(node, what: "an operation", allowed: allowed) else { return nil }
        let kinds = pairs.filter { OperationSpec.Kind(rawValue: $0.key) != nil }
        guard kinds.count == 1 else {
            report(kinds.isEmpty ? .missingKey : .invalidValue, kinds.isEmpty ? "an operation needs one of `upsert`, `update` or `delete` naming its view" : "an operation has exactly one of `upsert`, `update` or `delete`", at: kinds.count > 1 ? kinds[1].keyNode : node)
            return nil
        }
        let kind = OperationSpec.Kind(rawValue: kinds[0].key)!
        guard let viewName = scalar(kinds[0].value, what: "the view of `\(kind.rawValue)`") else { return nil }
        guard let viewIndex = views.firstIndex(where: { $0.name == viewName }) else {
            let hint = didYouMean(viewName, among: views.map(\.name)).map { "; did you mean `\($0)`?" } ?? ""
            report(.unknownView, "unknown view `\(viewName)`\(hint)", at: kinds[0].value)
            return nil
        }
        let view = views[viewIndex]
        func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
        let pathsDenied = tombstone ? "a tombstone has no payload (use `$key`)" : nil
        var failed = false

        var keyExprs: [Expr?] = Array(repeating: nil, count: view.keyColumns.count)
        if let keyNode = value("key"), let keyPairs = mapping(keyNode, what: "`key`", allowed: nil) {
            for entry in keyPairs {
                guard let columnIndex = column(entry.key, of: view, at: entry.keyNode) else {
                    failed = true
                    continue
                }
                guard let position = view.keyColumns.firstIndex(of: columnIndex) else {
                    report(.invalidValue, "`\(entry.key)` is not a key column of view `\(view.name)` (key: \(view.keyColumns.map { view.columns[$0].name }.joined(separator: ", ")))", at: entry.keyNode)
                    failed = true
                    continue
                }
                let scope = Scope(columns: view.columns, rowDenied: "key expressions may not read row columns", pathsDenied: pathsDenied)
                guard let (expr, type) = expression(entry.value, what: "key `\(entry.key)`", scope: scope) else { failed = true; continue }
                if !Self.fits(type, in: view.columns[columnIndex].type) {
                    report(.typeMismatch, "key `\(entry.key)` is \(view.columns[columnIndex].type.rawValue) but the expression is \(type.name)", at: entry.value)
                    failed = true
                }
                keyExprs[position] = expr
            }
            let missing = view.keyColumns.enumerated().filter { keyExprs[$0.offset] == nil }.map { view.columns[$0.element].name }
            if !failed, !missing.isEmpty {
                report(.missingKeyColumn, "`key` must give every key column of view `\(view.name)`; missing: \(missing.joined(separator: ", "))", at: keyNode)
                failed = true
            }
        } else if value("key") == nil {
            report(.missingKey, "`\(kind.rawValue): \(view.name)` needs `key` (a mapping of its key columns: \(view.keyColumns.map { view.columns[$0].name }.joined(separator: ", ")))", at: node)
            failed = true
        } else { failed = true }

        let rowScope = Scope(columns: view.columns, rowDenied: nil, pathsDenied: pathsDenied)
        var assignments: [OperationSpec.Assignment] = []
        if let setNode = value("set") {
            if kind == .delete {
                report(.invalidValue, "`delete` takes no `set`", at: setNode)
                failed = true
            } else if let setPairs = mapping(setNode, what: "`set`", allowed: nil) {
                for entry in setPairs {
                    guard let columnIndex = column(entry.key, of: view, at: entry.keyNode) else {
                        failed = true
                        continue
                    }
                    if view.keyColumns.contains(columnIndex) {
                        report(.invalidValue, "`\(entry.key)` is a key column: give it in `key`, not in `set`", at: entry.keyNode)
                        failed = true
                        continue
                    }
                    guard let (expr, type) = expression(entry.value, what: "`set.\(entry.key)`", scope: rowScope) else { failed = true; continue }
                    if !Self.fits(type, in: view.columns[columnIndex].type) {
                        report(.typeMismatch, "column `\(entry.key)` is \(view.columns[columnIndex].type.rawValue) but the expression is \(type.name)", at: entry.value)
                        failed = true
                    }
                    assignments.append(.init(column: columnIndex, expr: expr))
                }
            } else { failed = true }
        } else if kind == .update {
            report(.missingKey, "`update` needs `set`", at: node)
            failed = true
        }
        var when: Expr?
        if let whenNode = value("when") {
            if let (expr, type) = expression(whenNode, what: "`when`", scope: rowScope) {
                if type != .boolean && type != .unknown && type != .null {
                    report(.typeMismatch, "`when` must be a boolean expression, not \(type.name)", at: whenNode)
                    failed = true
                }
                when = expr
            } else { failed = true }
        }
        if failed { return nil }
        return OperationSpec(kind: kind, view: viewIndex, key: keyExprs.map { $0! }, set: assignments, when: when)
    }

    mutating func buildUpcastStep(_ node: Node) -> UpcastStep? {
        guard let pairs = mapping(node, what: "an upcast step", allowed: ["from", "rename", "default"]) else { return nil }
        guard let fromNode = pairs.first(where: { $0.key == "from" })?.value else {
            report(.missingKey, "an upcast step needs `from` (the version it upgrades)", at: node)
            return nil
        }
        guard let fromText = scalar(fromNode, what: "`from`"), let from = Int(fromText), from >= 1 else {
            report(.invalidValue, "`from` must be a positive integer", at: fromNode)
            return nil
        }
        var step = UpcastStep(from: from, renames: [], defaults: [])
        if let renameNode = pairs.first(where: { $0.key == "rename" })?.value, let renames = mapping(renameNode, what: "`rename`", allowed: nil) {
            for entry in renames {
                guard let source = path(entry.keyNode, what: "a rename source"), let target = path(entry.value, what: "a rename target") else { continue }
                if source.hasPrefix(target) || target.hasPrefix(source) {
                    report(.invalidPath, "cannot rename `\(source)` to `\(target)`: one contains the other", at: entry.keyNode)
                    continue
                }
                step.renames.append(.init(from: source, to: target))
            }
        }
        if let defaultNode = pairs.first(where: { $0.key == "default" })?.value, let defaults = mapping(defaultNode, what: "`default`", allowed: nil) {
            for entry in defaults {
                guard let target = path(entry.keyNode, what: "a default path") else { continue }
                let scope = Scope(columns: nil, rowDenied: "an upcast default is a constant", pathsDenied: "an upcast default is a constant", constantOnly: true)
                guard let (expr, _) = expression(entry.value, what: "the default of `\(target)`", scope: scope) else { continue }
                step.defaults.append(.init(path: target, value: expr))
            }
        }
        return step
    }
}
