public import Pipelines
import Foundation
import ProjectorModel

/// Runs one `PipelineTest` (a `tests:` entry) in memory through ``ProjectionHarness`` — the
/// worker's batch path — and tells what differs, so `projector test` and Swift tests judge a
/// pipeline by the same rules.
///
/// The given messages are one batch, as a worker polling them at once would apply them (under
/// `on_error: fail` the first failing event stops it). Rows are matched by their key; only the
/// columns a test lists are compared; views a test does not list are not checked.
public struct PipelineTestRun: Sendable {
    /// The test run.
    public var test: PipelineTest
    /// One line per difference, empty when the test passed.
    public var differences: [String]
    /// Whether everything expected was found.
    public var passed: Bool { differences.isEmpty }

    /// Runs `test` against `pipeline`.
    /// - Throws: the harness's error when the store fails.
    public init(_ test: PipelineTest, pipeline: Pipeline) throws {
        self.test = test
        let plan = Plan(pipeline)
        let harness = try ProjectionHarness(plan)
        // The validator makes sure a tombstone has a key.
        let batch = try harness.send(test.given.map { given in
            given.value.map { TestMessage($0, key: given.key, topic: given.topic, partition: given.partition, timestamp: given.timestamp) }
                ?? TestMessage(tombstoneFor: given.key ?? "", topic: given.topic, partition: given.partition, timestamp: given.timestamp)
        })
        var differences: [String] = []
        for (view, expected) in test.rows {
            guard let definition = plan.views.first(where: { $0.name == view }) else { continue }
            differences += Self.compare(view: definition, expected: expected, actual: try harness.rows(view))
        }
        if let expected = test.deadLetters {
            let failed = (batch.failedEvents + (batch.failure.map { [$0] } ?? [])).sorted { $0.messageIndex < $1.messageIndex }
            differences += Self.compare(deadLetters: expected, failed: failed)
        }
        self.differences = differences
    }

    static func compare(view: ViewDefinition, expected: [[String: PipelineTest.Value]], actual: [[String: ViewValue]]) -> [String] {
        let keyNames = view.keyColumns.map { view.columns[$0].name }
        let types = Dictionary(uniqueKeysWithValues: view.columns.map { ($0.name, $0.type) })
        func keyText(_ values: [String]) -> String { "(" + zip(keyNames, values).map { "\($0): \($1)" }.joined(separator: ", ") + ")" }
        var unmatched = actual
        var lines: [String] = []
        for row in expected {
            let index = unmatched.firstIndex { candidate in
                keyNames.allSatisfy { Self.matches(row[$0]!, candidate[$0] ?? .null, type: types[$0]!) }
            }
            let key = keyText(keyNames.map { row[$0]!.description })
            guard let index else {
                lines.append("\(view.name) \(key): missing row")
                continue
            }
            let found = unmatched.remove(at: index)
            for column in view.columns.map(\.name) where !keyNames.contains(column) {
                guard let want = row[column] else { continue }
                let got = found[column] ?? .null
                if !Self.matches(want, got, type: types[column]!) {
                    lines.append("\(view.name) \(key): \(column): expected \(want), got \(Self.render(got))")
                }
            }
        }
        for row in unmatched {
            let others = view.columns.map(\.name).filter { !keyNames.contains($0) }.map { "\($0): \(render(row[$0] ?? .null))" }
            lines.append("\(view.name) \(keyText(keyNames.map { render(row[$0] ?? .null) })): unexpected row {\(others.joined(separator: ", "))}")
        }
        return lines
    }

    static func compare(deadLetters expected: [PipelineTest.DeadLetter], failed: [EventError]) -> [String] {
        var lines: [String] = []
        for (position, want) in expected.enumerated() {
            guard position < failed.count else {
                lines.append("dead letter \(position + 1): expected \(describe(want)), got none")
                continue
            }
            let got = failed[position]
            if let message = want.message, message != got.messageIndex + 1 {
                lines.append("dead letter \(position + 1): expected given message \(message), got message \(got.messageIndex + 1) (\(got.code): \(got.message))")
            }
            if let part = want.reasonContains, !got.message.contains(part) && !"\(got.code)".contains(part) {
                lines.append("dead letter \(position + 1): expected a reason containing '\(part)', got '\(got.code): \(got.message)'")
            }
        }
        for got in failed.dropFirst(expected.count) {
            lines.append("unexpected dead letter: given message \(got.messageIndex + 1): \(got.code): \(got.message)")
        }
        return lines
    }

    private static func describe(_ letter: PipelineTest.DeadLetter) -> String {
        [letter.message.map { "message \($0)" }, letter.reasonContains.map { "reason containing '\($0)'" }]
            .compactMap { $0 }.joined(separator: ", ")
    }

    /// Whether a value written in a test means the stored value, read as the column's type.
    static func matches(_ expected: PipelineTest.Value, _ actual: ViewValue, type: ColumnType) -> Bool {
        switch (expected, actual) {
        case (.null, .null): return true
        case (.null, _), (_, .null): return false
        default: break
        }
        switch type {
        case .text:
            guard case .text(let text) = actual else { return false }
            switch expected {
            case .string(let s): return s == text
            case .integer(let i): return String(i) == text
            case .real(let r): return "\(r)" == text
            case .boolean(let b): return "\(b)" == text
            case .json(let j): return j == text
            case .null: return false
            }
        case .integer, .boolean:
            guard case .integer(let stored) = actual else { return false }
            switch expected {
            case .integer(let i): return i == stored
            case .boolean(let b): return (b ? 1 : 0) == stored
            default: return false
            }
        case .real:
            guard case .real(let stored) = actual else { return false }
            switch expected {
            case .integer(let i): return Double(i) == stored
            case .real(let r): return r == stored
            default: return false
            }
        case .json:
            guard case .text(let text) = actual else { return false }
            let want: String
            switch expected {
            case .json(let j), .string(let j): want = j
            case .integer(let i): want = String(i)
            case .real(let r): want = "\(r)"
            case .boolean(let b): want = "\(b)"
            case .null: return false
            }
            return sameJSON(want, text)
        }
    }

    private static func sameJSON(_ a: String, _ b: String) -> Bool {
        func parse(_ text: String) -> NSObject? {
            (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) as? NSObject
        }
        guard let x = parse(a), let y = parse(b) else { return a == b }
        return x.isEqual(y)
    }

    /// A stored value as a test would write it.
    static func render(_ value: ViewValue) -> String {
        switch value {
        case .null: return "null"
        case .integer(let i): return String(i)
        case .real(let r): return "\(r)"
        case .text(let t): return "'\(t)'"
        }
    }
}
