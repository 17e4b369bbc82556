import ProjectorModel
import Yams

/// Builds a `Pipeline` from the composed YAML tree, collecting every problem with its position.
struct PipelineBuilder {
    let file: String
    let text: String
    var problems: [PipelineError] = []
    /// Positions of mappings that had an unknown key: a likely typo, so a "missing key" there is
    /// not reported on top of it.
    var mappingsWithUnknownKeys: Set<String> = []
    /// The declared `emit_topics`, read before the handlers.
    var emitTopics: [String] = []
    /// The `emit:` operations built so far: the next one's number.
    var emitCount = 0
    /// The event types `schedule:` and `cancel_schedule:` name, checked against the handlers once all are read.
    var scheduledEvents: [ScheduledEvent] = []
    /// The pipeline's name once read: part of each emitted record's id.
    var pipelineName = "pipeline"

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
        let topKeys = ["name", "version", "source", "on_error", "dead_letter", "on_unknown_type", "views", "on", "upcast", "events", "tests", "emit_topics"]
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
                pipelineName = n
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
            let eventReads = ReadPermissions(columns: nil, rowDenied: "source expressions see only the event")
            if let node = sourceValue("type") { typePath = path(node, what: "`source.type`") ?? typePath }
            if let node = sourceValue("version") { versionPath = path(node, what: "`source.version`") }
            if let node = sourceValue("key") { key = expression(node, what: "`source.key`", reads: eventReads)?.0 }
            if let node = sourceValue("filter"), let (e, t) = expression(node, what: "`source.filter`", reads: eventReads) {
                if t != .boolean && t != .unknown && t != .null { report(.typeMismatch, "`filter` must be a boolean expression, not \(t.name)", at: node) }
                filter = e
            }
            if let node = sourceValue("dedupe_by") { dedupeBy = expression(node, what: "`source.dedupe_by`", reads: eventReads)?.0 }
        }

        // views
        var views: [ViewDefinition] = []
        if let viewsNode = value("views"), let list = mapping(viewsNode, what: "`views`", allowed: nil) {
            if list.isEmpty { report(.invalidValue, "`views` needs at least one view", at: viewsNode) }
            for entry in list {
                guard checkName(entry.key, what: "view name", at: entry.keyNode) else { continue }
                if let view = buildView(entry.key, entry.value) { views.append(view) }
            }
        }

        if let node = value("emit_topics") { emitTopics = buildEmitTopics(node, sources: topics) }

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
                    let op = Self.isEmit(opNode) ? buildEmit(opNode, views: views, tombstone: isTombstone)
                        : Self.isSchedule(opNode) ? buildSchedule(opNode, views: views, tombstone: isTombstone)
                        : buildOperation(opNode, views: views, tombstone: isTombstone)
                    if let op { operations.append(op) }
                }
                handlers.append(HandlerSpec(type: entry.key, operations: operations))
            }
        }

        checkScheduledEvents(handlers: handlers, typePath: typePath)

        // upcast
        var upcasts: [String: [UpcastStep]] = [:]
        if let upcastNode = value("upcast"), let list = mapping(upcastNode, what: "`upcast`", allowed: nil) {
            if versionPath == nil {
                report(.missingKey, "`upcast` needs `source.version` (for example `version: $.version`)", at: upcastNode)
            }
            let types = handlers.map(\.type).filter { $0 != "*" && $0 != "_tombstone" }
            for entry in list {
                if !types.contains(entry.key) {
                    if let near = didYouMean(entry.key, among: types),
                       case .mapping(let on)? = value("on"), let handlerNode = on.keys.first(where: { $0.string == near }) {
                        // One of the two spellings is wrong, and events of the other type would be ignored silently.
                        report(.unknownKey, "the handler `\(near)` and the upcast of `\(entry.key)` (line \(entry.keyNode.position.line)) differ "
                            + "by a typo: events of one of the two types would be ignored; spell both as the events do "
                            + "(did you mean `\(entry.key)`?)", at: handlerNode)
                    }
                    let hint = didYouMean(entry.key, among: types).map { "; is the handler `\($0)` misspelled?" } ?? ""
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

        var events: [EventSchema]?
        if let node = value("events") {
            let schemas = buildEvents(node)
            checkDeclared(schemas, onNode: value("on"), upcastNode: value("upcast"))
            events = schemas
        }
        var tests: [PipelineTest] = []
        if let node = value("tests") { tests = buildTests(node, views: views, topics: topics) }

        guard problems.isEmpty else { return nil }
        var pipeline = Pipeline(
            name: name, version: version, topics: topics, onError: onError, onUnknownType: onUnknown, views: views,
            typePath: typePath, key: key, versionPath: versionPath, filter: filter, dedupeBy: dedupeBy,
            handlers: handlers, upcasts: upcasts, deadLetter: deadLetter, events: events
        )
        pipeline.tests = tests
        if !emitTopics.isEmpty {
            pipeline.emitTopics = emitTopics
            pipeline.hash = DefinitionHash.hex(of: pipeline.canonicalText)
        }
        return pipeline
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
}
