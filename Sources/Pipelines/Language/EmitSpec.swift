/// An `emit:` operation: a record produced, through the outbox, to one of the pipeline's
/// `emit_topics`, its key, value and headers built from expressions of the event.
struct EmitSpec: Sendable {
    /// A JSON value written as YAML whose scalars are expressions: objects and arrays keep their
    /// shape, each scalar is evaluated and written as the JSON of its value.
    indirect enum Template: Sendable {
        case expression(Expr)
        case object([Member])
        case array([Template])

        /// The template in the pipeline's canonical text.
        var canonical: String {
            switch self {
            case .expression(let expr): return expr.canonical
            case .object(let members): return "{" + members.map { "\($0.name.debugDescription):\($0.value.canonical)" }.joined(separator: ",") + "}"
            case .array(let items): return "[" + items.map(\.canonical).joined(separator: ",") + "]"
            }
        }
    }

    /// One member of an object template.
    struct Member: Sendable {
        var name: String
        var value: Template
    }

    /// One `headers:` entry: the header name and its value expression (text; null omits it).
    struct Header: Sendable {
        var name: String
        var expr: Expr
    }

    /// The target topic, one of `emit_topics`.
    var topic: String
    /// The record key (text), or nil for a record without key.
    var key: Expr?
    /// The record value.
    var value: Template
    var headers: [Header]
    /// The emit's number in the pipeline, in file order: part of the record's `projector.id`.
    var number: Int
    /// The pipeline's name: part of the record's `projector.id` (not of the canonical text).
    var pipeline: String

    /// The emit in the pipeline's canonical text.
    var canonical: String {
        "emit \(topic) key=\(key?.canonical ?? "-") value=\(value.canonical) headers="
            + headers.map { "\($0.name.debugDescription):\($0.expr.canonical)" }.joined(separator: ",") + " #\(number)"
    }
}
