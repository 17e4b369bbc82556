internal import Foundation
internal import ProjectorModel
internal import Views

/// Builds the read API's JSON by hand: rows are typed by their declared columns (integer and
/// real as numbers, boolean as `true`/`false`, json as the JSON it holds), which a `Codable`
/// model of `ViewValue` could not say without the column.
struct JSONText {
    private(set) var text = ""

    mutating func raw(_ fragment: String) { text += fragment }

    mutating func string(_ value: String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }

    /// `value` as JSON of `type`: a boolean column's 0/1 as `false`/`true`, a json column's text
    /// as the JSON it holds (as a string when it is not JSON), a non-finite real as `null`.
    mutating func value(_ value: ViewValue, type: ColumnType) {
        switch (value, type) {
        case (.null, _): text += "null"
        case (.integer(let integer), .boolean) where integer == 0 || integer == 1: text += integer == 1 ? "true" : "false"
        case (.integer(let integer), _): text += String(integer)
        case (.real(let real), _): text += real.isFinite ? String(real) : "null"
        case (.text(let json), .json) where Self.isJSON(json): text += json
        case (.text(let string), _): self.string(string)
        }
    }

    /// One row as an object of its columns in declaration order.
    mutating func row(_ row: [ViewValue], of view: ViewDescription) {
        text += "{"
        for (index, column) in view.columns.enumerated() {
            if index > 0 { text += "," }
            string(column.name)
            text += ":"
            value(index < row.count ? row[index] : .null, type: column.type)
        }
        text += "}"
    }

    private static func isJSON(_ text: String) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil
    }
}
