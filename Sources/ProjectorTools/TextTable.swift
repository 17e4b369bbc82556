internal import Projector
internal import Foundation
public import ProjectorModel

/// A plain-text table with aligned columns, for views printed on a terminal.
public struct TextTable: Sendable {
    /// The header.
    public var columns: [String]
    /// The cells, row by row.
    public var rows: [[String]]

    /// Creates a table.
    public init(columns: [String], rows: [[String]]) {
        self.columns = columns
        self.rows = rows
    }

    /// The table as lines: header, rule, rows; cells are cut at 40 characters.
    public var rendered: String {
        let cut = { (cell: String) in cell.count > 40 ? String(cell.prefix(39)) + "…" : cell }
        let cells = rows.map { $0.map(cut) }
        var widths = columns.map(\.count)
        for row in cells {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ row: [String]) -> String {
            zip(row, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  ")
        }
        return ([line(columns), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + cells.map(line))
            .joined(separator: "\n")
    }
}

extension ViewValue {
    /// The value as a person reads it: `NULL`, the number (reals to 15 significant digits, so
    /// a sum like 471.94000000000005 reads 471.94), or the text.
    public var displayText: String {
        switch self {
        case .null: "NULL"
        case .integer(let value): String(value)
        case .real(let value): value.isFinite ? String(format: "%.15g", value) : String(value)
        case .text(let value): value
        }
    }
}
