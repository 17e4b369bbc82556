import ProjectorModel

/// An `emit:` compiled against the pipeline: its expressions, and what its outbox row needs.
///
/// Applying it writes one row of `_projector_outbox_<pipeline>` through the batch's change set,
/// so the record commits with the event's view rows and checkpoint, and an event that fails
/// later rolls it back with everything else the event did (nothing half-emitted).
final class CompiledEmit: Sendable {
    indirect enum Template: Sendable {
        case expression(CompiledExpression, text: String)
        /// Members with their names already quoted as JSON.
        case object([(name: String, value: Template)])
        case array([Template])
    }

    let pipeline: String
    let topic: String
    let number: Int
    let key: CompiledExpression?
    let keyText: String
    let value: Template
    let headers: [(name: String, expression: CompiledExpression, text: String)]

    init(_ spec: EmitSpec, compile: (Expr) -> CompiledExpression) {
        pipeline = spec.pipeline
        topic = spec.topic
        number = spec.number
        key = spec.key.map(compile)
        keyText = spec.key?.canonical ?? ""
        value = Self.build(spec.value, compile: compile)
        headers = spec.headers.map { ($0.name, compile($0.expr), $0.expr.canonical) }
    }

    /// Compiles a JSON template's expressions.
    static func build(_ template: EmitSpec.Template, compile: (Expr) -> CompiledExpression) -> Template {
        switch template {
        case .expression(let expr): return .expression(compile(expr), text: expr.canonical)
        case .object(let members): return .object(members.map { (Value.quoteJSON($0.name), build($0.value, compile: compile)) })
        case .array(let items): return .array(items.map { build($0, compile: compile) })
        }
    }

    /// `emit: inventory-commands`, for error messages.
    private var title: String { "emit: \(topic)" }

    /// Writes the event's record to the outbox table `outbox` of the batch.
    /// - Throws: `EventFailure` when an expression fails or gives a value JSON cannot hold.
    func apply(_ context: EvaluationContext, outbox: Int, _ batch: inout ChangeSet, _ rows: inout some RowReader) throws {
        var recordKey = ViewValue.null
        if let key {
            let value: Value
            do {
                value = try Evaluator.evaluate(key, context, row: [])
            } catch {
                throw EventFailure(code: error.code, message: "`key` of `\(title)` (\(keyText)): \(error.message)")
            }
            switch value {
            case .null: break
            case .text, .string, .integer: recordKey = .text(value.asText!)
            default:
                throw EventFailure(code: .typeMismatch, message: "`key` of `\(title)` (\(keyText)) gave \(value.typeName), not text")
            }
        }
        var json = ""
        try Self.write(value, path: "value", title: title, context, into: &json)
        var headerJSON: String?
        for header in headers {
            let value: Value
            do {
                value = try Evaluator.evaluate(header.expression, context, row: [])
            } catch {
                throw EventFailure(code: error.code, message: "header `\(header.name)` of `\(title)` (\(header.text)): \(error.message)")
            }
            if value.isNull { continue }
            if case .composite = value {
                throw EventFailure(code: .typeMismatch, message: "header `\(header.name)` of `\(title)` (\(header.text)) gave \(value.typeName), not text")
            }
            headerJSON = (headerJSON.map { $0 + "," } ?? "{") + Value.quoteJSON(header.name) + ":" + Value.quoteJSON(value.asText!)
        }
        let id: String
        let key: [ViewValue]
        if let firing = batch.firing {
            // A fired timer's record: keyed before the records of the event the timer fired ahead of.
            id = firing.id + "/\(number)"
            key = [.text(context.topic), .integer(Int64(context.partition)), .integer(context.offset),
                   .integer(Timers.outboxEmit(firing: firing.ordinal, emit: number))]
        } else {
            id = Outbox.id(pipeline: pipeline, topic: context.topic, partition: context.partition, offset: context.offset, emit: number)
            key = [.text(context.topic), .integer(Int64(context.partition)), .integer(context.offset), .integer(Int64(number))]
        }
        let entry = try batch.entry(view: outbox, key: key, rows: &rows)
        batch.set(entry, key + [
            .text(id), .text(topic), recordKey, .text(json), headerJSON.map { .text($0 + "}") } ?? .null,
            context.timestamp.map { .integer($0) } ?? .null,
        ])
    }

    /// Appends the JSON of `template` evaluated for the event; errors name `path` of `title`.
    static func write(_ template: Template, path: String, title: String, _ context: EvaluationContext, into json: inout String) throws {
        switch template {
        case .expression(let expression, let text):
            let value: Value
            do {
                value = try Evaluator.evaluate(expression, context, row: [])
            } catch {
                throw EventFailure(code: error.code, message: "`\(path)` of `\(title)` (\(text)): \(error.message)")
            }
            if case .real(let v) = value, !v.isFinite {
                throw EventFailure(code: .overflow, message: "`\(path)` of `\(title)` (\(text)) gave \(v), which JSON cannot hold")
            }
            json += value.jsonText ?? "null"
        case .object(let members):
            json += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { json += "," }
                json += member.name + ":"
                try write(member.value, path: path + "." + member.name.dropFirst().dropLast(), title: title, context, into: &json)
            }
            json += "}"
        case .array(let items):
            json += "["
            for (index, item) in items.enumerated() {
                if index > 0 { json += "," }
                try write(item, path: "\(path)[\(index)]", title: title, context, into: &json)
            }
            json += "]"
        }
    }
}
