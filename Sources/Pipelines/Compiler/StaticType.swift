import ProjectorModel

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

extension StaticType {
    /// What reading a column of `type` gives an expression (a `json` column reads as its text).
    init(_ type: ColumnType) {
        switch type {
        case .text, .json: self = .text
        case .integer: self = .integer
        case .real: self = .real
        case .boolean: self = .boolean
        }
    }
}
