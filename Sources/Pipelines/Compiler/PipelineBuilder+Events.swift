import Yams

/// `events:` — per event type its required paths and their JSON types — and the check that every
/// handler and upcast names a declared type.
extension PipelineBuilder {
    mutating func buildEvents(_ node: Node) -> [EventSchema] {
        guard let entries = mapping(node, what: "`events`", allowed: nil) else { return [] }
        var schemas: [EventSchema] = []
        for entry in entries {
            if entry.key == "*" || entry.key == "_tombstone" || entry.key.isEmpty {
                report(.invalidValue, "`events` declares event types; `\(entry.key)` is not one", at: entry.keyNode)
                continue
            }
            var fields: [EventSchema.Field] = []
            if case .scalar(let s) = entry.value, s.string.isEmpty || s.string == "null" || s.string == "~" {
                schemas.append(EventSchema(type: entry.key, required: []))
                continue
            }
            guard let spec = mapping(entry.value, what: "event `\(entry.key)`", allowed: ["required"]) else { continue }
            if let requiredNode = spec.first(where: { $0.key == "required" })?.value,
               let required = mapping(requiredNode, what: "`required` of event `\(entry.key)`", allowed: nil) {
                for field in required {
                    guard let path = path(field.keyNode, what: "a required path of `\(entry.key)`") else { continue }
                    guard let typeName = scalar(field.value, what: "the type of `\(field.key)`") else { continue }
                    guard let type = EventSchema.JSONType(rawValue: typeName) else {
                        let names = EventSchema.JSONType.allCases.map(\.rawValue)
                        let hint = didYouMean(typeName, among: names).map { "; did you mean `\($0)`?" } ?? ""
                        report(.unknownType, "unknown JSON type `\(typeName)`\(hint) (types: \(names.joined(separator: ", ")))", at: field.value)
                        continue
                    }
                    fields.append(EventSchema.Field(path: path, type: type))
                }
            }
            schemas.append(EventSchema(type: entry.key, required: fields))
        }
        return schemas
    }

    /// With `events:`, a handler or upcast of an undeclared type is a typo until proven otherwise.
    mutating func checkDeclared(_ events: [EventSchema], onNode: Node?, upcastNode: Node?) {
        let declared = events.map(\.type)
        for (node, what) in [(onNode, "a handler"), (upcastNode, "an upcast")] {
            guard let node, case .mapping(let mapping) = node else { continue }
            for keyNode in mapping.keys {
                guard case .scalar(let scalar) = keyNode else { continue }
                let type = scalar.string
                if type == "*" || type == "_tombstone" || declared.contains(type) { continue }
                let hint = didYouMean(type, among: declared).map { "; did you mean `\($0)`?" }
                    ?? " (declared: \(declared.joined(separator: ", ")))"
                report(.unknownKey, "\(what) for `\(type)`, which `events` does not declare\(hint)", at: keyNode)
            }
        }
    }
}
