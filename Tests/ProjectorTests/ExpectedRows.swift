import ProjectorTestSupport
import Foundation
import Pipelines
import ProjectorTesting
import Testing
import Views
import ProjectorModel

/// Compares a view's rows with `pipelines/samples/<pipeline>.expected.json`.
enum ExpectedRows {
    /// The expected rows of every view of `pipeline`, by view name.
    static func load(_ pipeline: String) throws -> [String: [[String: Any]]] {
        let url = ProjectorExecutable.repositoryRoot.appendingPathComponent("pipelines/samples/\(pipeline).expected.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        return try #require(object as? [String: [[String: Any]]])
    }

    /// Whether a stored cell equals an expected JSON value; reals within 1e-9 relative, because sums
    /// over several partitions are added in consumption order.
    static func matches(_ value: ViewValue, _ expected: Any) -> Bool {
        switch value {
        case .null: return expected is NSNull
        case .text(let text): return (expected as? String) == text
        case .integer(let integer):
            guard let number = expected as? NSNumber else { return false }
            return number.doubleValue == Double(integer)
        case .real(let real):
            guard let number = expected as? NSNumber else { return false }
            return abs(number.doubleValue - real) <= 1e-9 * max(1, abs(real))
        }
    }

    /// Records an issue for every row of `view` in `store` that differs from `expected`.
    static func check(_ store: some ViewStore, view: String, expected: [[String: Any]]) throws {
        let actual = try store.rows(ofView: view)
        #expect(actual.rows.count == expected.count, "row count of \(view)")
        for (row, wanted) in zip(actual.rows, expected) {
            for (column, value) in zip(actual.columns, row) {
                #expect(matches(value, wanted[column] ?? NSNull()), "\(view).\(column): \(value) ≠ \(wanted[column] ?? "nil")")
            }
        }
    }
}
