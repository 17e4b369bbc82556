import ProjectorModel

/// The normalised text of a definition, which `Pipeline.hash` digests.
extension Pipeline {
    /// The normalised definition the hash is computed from.
    var canonicalText: String {
        var out = "projector-pipeline/1\nname=\(name)\nversion=\(version)\ntopics=\(topics.joined(separator: ","))\n"
        out += "type=\(typePath)\nkey=\(key?.canonical ?? "-")\nversion_path=\(versionPath?.description ?? "-")\n"
        out += "filter=\(filter?.canonical ?? "-")\ndedupe_by=\(dedupeBy?.canonical ?? "-")\n"
        out += "on_error=\(onError.rawValue)\non_unknown_type=\(onUnknownType.rawValue)\n"
        for view in views.sorted(by: { $0.name < $1.name }) {
            out += "view \(view.name) key=\(view.keyColumns.map { view.columns[$0].name }.joined(separator: ","))\n"
            for column in view.columns {
                // `not_null` only when set, so that existing pipelines keep their hash.
                out += "  column \(column.name) \(column.type.rawValue) \(column.defaultValue.canonical)\(column.notNull ? " not_null" : "")\n"
            }
        }
        for handler in handlers.sorted(by: { $0.type < $1.type }) {
            out += "on \(handler.type.debugDescription)\n"
            for op in handler.operations {
                if let emit = op.emit {
                    out += "  \(emit.canonical) when=\(op.when?.canonical ?? "-")\n"
                    continue
                }
                // Only for timer operations, so that pipelines without them keep their hash.
                if let schedule = op.schedule {
                    out += "  \(schedule.canonical) when=\(op.when?.canonical ?? "-")\n"
                    continue
                }
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
        // Only when set, so that pipelines without `emit_topics:` keep the hash they always had.
        if !emitTopics.isEmpty { out += "emit_topics=\(emitTopics.joined(separator: ","))\n" }
        if let events {
            for schema in events.sorted(by: { $0.type < $1.type }) {
                out += "event \(schema.type.debugDescription)\n"
                for field in schema.required.sorted(by: { $0.path.description < $1.path.description }) {
                    out += "  required \(field.path)=\(field.type.rawValue)\n"
                }
            }
        }
        return out
    }
}

extension ViewValue {
    /// A column default as the canonical text writes it (`i1`, `r1.5`, `"text"`, `null`).
    var canonical: String {
        switch self {
        case .null: return "null"
        case .integer(let v): return "i\(v)"
        case .real(let v): return "r\(v)"
        case .text(let s): return s.debugDescription
        }
    }
}
