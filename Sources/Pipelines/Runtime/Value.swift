import ProjectorModel

/// A runtime value. JSON strings, objects and arrays stay borrowed byte ranges until stored.
enum Value {
    case null
    case integer(Int64)
    case real(Double)
    case boolean(Bool)
    case text(String)
    /// A JSON string body (between the quotes) in the message; `escaped` when it has escapes.
    case string(Span, escaped: Bool)
    /// A JSON object or array's raw text in the message; `elements` is the array count or -1.
    case composite(Span, elements: Int)

    var typeName: String {
        switch self {
        case .null: return "null"
        case .integer: return "integer"
        case .real: return "real"
        case .boolean: return "boolean"
        case .text, .string: return "text"
        case .composite(_, let elements): return elements < 0 ? "object" : "array"
        }
    }

    var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The text of a text value (allocates only for long or escaped strings).
    var materialized: String? {
        switch self {
        case .text(let s): return s
        case .string(let span, let escaped):
            return escaped ? JSONScanner.unescape(span.buffer) : span.text
        default: return nil
        }
    }

    /// The canonical text of a scalar, used by `||`, `concat` and dedupe ids.
    var asText: String? {
        switch self {
        case .null: return nil
        case .integer(let v): return String(v)
        case .real(let v): return "\(v)"
        case .boolean(let v): return v ? "true" : "false"
        case .text, .string: return materialized
        case .composite(let span, _): return String(decoding: span.buffer, as: UTF8.self)
        }
    }

    /// The value as JSON text, for `json` columns.
    var jsonText: String? {
        switch self {
        case .null: return nil
        case .integer(let v): return String(v)
        case .real(let v): return "\(v)"
        case .boolean(let v): return v ? "true" : "false"
        case .string(let span, _): return "\"" + String(decoding: span.buffer, as: UTF8.self) + "\""
        case .text(let s): return Value.quoteJSON(s)
        case .composite(let span, _): return String(decoding: span.buffer, as: UTF8.self)
        }
    }

    static func quoteJSON(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Converts to a column's storage class.
    func stored(as type: ColumnType, column: String) throws(EventFailure) -> ViewValue {
        guard let cell = stored(as: type) else { throw mismatch(type, column: column) }
        return cell
    }

    /// ``stored(as:column:)``, nil when the value does not fit the column: a hot path names the
    /// column (``mismatch(_:column:)``) only when it fails, so the name is not retained per value.
    func stored(as type: ColumnType) -> ViewValue? {
        if case .null = self { return .null }
        switch type {
        case .text:
            return materialized.map { .text($0) }
        case .integer:
            guard case .integer(let v) = self else { return nil }
            return .integer(v)
        case .real:
            switch self {
            case .integer(let v): return .real(Double(v))
            case .real(let v): return .real(v)
            default: return nil
            }
        case .boolean:
            guard case .boolean(let v) = self else { return nil }
            return .integer(v ? 1 : 0)
        case .json:
            return .text(jsonText!)
        }
    }

    /// Why the value does not fit column `column` of type `type`.
    func mismatch(_ type: ColumnType, column: String) -> EventFailure {
        EventFailure(code: .typeMismatch, message: "column `\(column)` is \(type.rawValue) but the value is \(typeName)")
    }

    /// The cell ``stored(as:column:)`` would give, its text borrowed from the message (a
    /// `.string` is valid UTF-8: the scanner checked it, `Plan` checks a Kafka key); `nil`
    /// when that needs a `String` (text made or unescaped, `json`) or fails (then `stored` throws).
    func borrowed(as type: ColumnType) -> ViewValue.Borrowed? {
        switch (type, self) {
        case (_, .null): return .null
        case (.text, .string(let span, false)): return .text(span.buffer)
        case (.integer, .integer(let v)): return .integer(v)
        case (.real, .integer(let v)): return .real(Double(v))
        case (.real, .real(let v)): return .real(v)
        case (.boolean, .boolean(let v)): return .integer(v ? 1 : 0)
        default: return nil
        }
    }

    /// A stored cell read back as a value of its column type.
    static func from(_ cell: ViewValue, type: ColumnType) -> Value {
        switch cell {
        case .null: return .null
        case .integer(let v): return type == .boolean ? .boolean(v != 0) : .integer(v)
        case .real(let v): return .real(v)
        case .text(let s): return .text(s)
        }
    }
}
