import ProjectorModel
import Yams

/// `emit_topics:` and the `emit:` operation: a record built from a JSON template of expressions,
/// produced to a declared topic through the outbox.
extension PipelineBuilder {
    /// The keys an `emit:` mapping takes.
    static let emitKeys = ["topic", "key", "value", "headers"]

    /// Reads `emit_topics:`: a list of distinct, non-empty topic names.
    mutating func buildEmitTopics(_ node: Node, sources: [String]) -> [String] {
        var topics: [String] = []
        let items: [Node]
        if case .sequence(let list) = node { items = Array(list) } else { items = [node] }
        for item in items {
            guard let topic = scalar(item, what: "an emit topic") else { continue }
            if topic.isEmpty { report(.invalidValue, "an emit topic name cannot be empty", at: item) }
            else if topics.contains(topic) { report(.duplicateKey, "emit topic `\(topic)` is listed twice", at: item) }
            else if sources.contains(topic) {
                report(.invalidValue, "emit topic `\(topic)` is also a source topic: the pipeline would read its own records back; "
                    + "emit to another topic", at: item)
            } else { topics.append(topic) }
        }
        if items.isEmpty { report(.invalidValue, "`emit_topics` needs at least one topic", at: node) }
        return topics
    }

    /// Whether an operation node is an `emit:` (it is then built by ``buildEmit(_:views:tombstone:)``).
    static func isEmit(_ node: Node) -> Bool {
        guard case .mapping(let mapping) = node else { return false }
        return mapping.keys.contains { $0.string == "emit" }
    }

    /// Builds `- emit: {topic, key, value, headers}` with an optional `when:`.
    mutating func buildEmit(_ node: Node, views: [ViewDefinition], tombstone: Bool) -> OperationSpec? {
        guard let pairs = mapping(node, what: "an `emit` operation", allowed: ["emit", "when"]) else { return nil }
        guard let emitNode = pairs.first(where: { $0.key == "emit" })?.value,
              let fields = mapping(emitNode, what: "`emit`", allowed: Self.emitKeys)
        else { return nil }
        func field(_ key: String) -> Node? { fields.first { $0.key == key }?.value }
        let number = emitCount
        emitCount += 1
        var failed = false
        let reads = ReadPermissions(
            columns: nil, rowDenied: "an emit reads the event; read a view with lookup('view', $key).column",
            pathsDenied: tombstone ? "a tombstone has no payload (use `$key`)" : nil, lookupViews: views)

        var topic = ""
        if let topicNode = field("topic") {
            if let name = scalar(topicNode, what: "`emit.topic`") {
                topic = name
                if !emitTopics.contains(name) {
                    failed = true
                    if emitTopics.isEmpty {
                        report(.unknownTopic, "`emit` to topic `\(name)`, which is not declared: list the topics the pipeline emits to in "
                            + "`emit_topics: [\(name)]` at the top level", at: topicNode)
                    } else {
                        let hint = didYouMean(name, among: emitTopics).map { "; did you mean `\($0)`?" }
                            ?? " (emit_topics: \(emitTopics.joined(separator: ", ")))"
                        report(.unknownTopic, "`emit` to topic `\(name)`, which `emit_topics` does not declare\(hint)", at: topicNode)
                    }
                }
            } else { failed = true }
        } else {
            report(.missingKey, "`emit` needs `topic` (one of `emit_topics`)", at: emitNode)
            failed = true
        }

        var key: Expr?
        if let keyNode = field("key") {
            key = keyExpression(keyNode, what: "`emit.key`", reads: reads)
            if key == nil { failed = true }
        }

        var value: EmitSpec.Template?
        if let valueNode = field("value") {
            value = template(valueNode, path: "emit.value", reads: reads)
            if value == nil { failed = true }
        } else {
            report(.missingKey, "`emit` needs `value` (a JSON template such as {type: \"'ReserveInventory'\", orderId: $key})", at: emitNode)
            failed = true
        }

        var headers: [EmitSpec.Header] = []
        if let headersNode = field("headers"), let entries = mapping(headersNode, what: "`emit.headers`", allowed: nil) {
            for entry in entries {
                if entry.key.hasPrefix("projector.") {
                    report(.invalidValue, "header `\(entry.key)`: names starting with `projector.` are set by Projector", at: entry.keyNode)
                    failed = true
                    continue
                }
                guard let (expr, _) = expression(entry.value, what: "header `\(entry.key)`", reads: reads) else { failed = true; continue }
                headers.append(EmitSpec.Header(name: entry.key, expr: expr))
            }
        } else if field("headers") != nil { failed = true }

        var when: Expr?
        if let whenNode = pairs.first(where: { $0.key == "when" })?.value {
            when = condition(whenNode, reads: reads)
            if when == nil { failed = true }
        }
        guard !failed, let value else { return nil }
        let emit = EmitSpec(topic: topic, key: key, value: value, headers: headers, number: number, pipeline: pipelineName)
        return OperationSpec(kind: .emit, view: -1, key: [], set: [], when: when, emit: emit)
    }

    /// The key of an emitted record or of a timer: an expression of text or an integer, as a Kafka
    /// message key is; nil (reported) when it does not type-check.
    mutating func keyExpression(_ node: Node, what: String, reads: ReadPermissions) -> Expr? {
        guard let (expr, type) = expression(node, what: what, reads: reads) else { return nil }
        guard type != .boolean && type != .real else {
            report(.typeMismatch, "\(what) must be text or an integer, not \(type.name)", at: node)
            return nil
        }
        return expr
    }

    /// A JSON template: mappings and sequences keep their shape, scalars are expressions.
    mutating func template(_ node: Node, path: String, reads: ReadPermissions) -> EmitSpec.Template? {
        switch node {
        case .mapping:
            guard let entries = mapping(node, what: "`\(path)`", allowed: nil) else { return nil }
            var members: [EmitSpec.Member] = []
            var failed = false
            for entry in entries {
                if let value = template(entry.value, path: "\(path).\(entry.key)", reads: reads) {
                    members.append(EmitSpec.Member(name: entry.key, value: value))
                } else { failed = true }
            }
            return failed ? nil : .object(members)
        case .sequence(let items):
            var elements: [EmitSpec.Template] = []
            var failed = false
            for (index, item) in items.enumerated() {
                if let value = template(item, path: "\(path)[\(index)]", reads: reads) { elements.append(value) } else { failed = true }
            }
            return failed ? nil : .array(elements)
        default:
            return expression(node, what: "`\(path)`", reads: reads).map { .expression($0.0) }
        }
    }
}
