import Foundation
import Pipelines
import ProjectorModel
import ProjectorTesting
import ProjectorTools
import Views

/// `projector validate PIPELINE --events FILE.jsonl`: the pipeline run in memory over sample events,
/// to see what it would make of them before any broker is involved.
///
/// Each line is its own batch, so every event error is reported (a worker under `on_error: fail`
/// would stop at the first one).
struct DryRun {
    var file: String
    var eventsFile: String
    var rowsPerView: Int

    /// Runs and prints the report; returns whether any event failed.
    func run(_ pipeline: Pipeline) throws -> Bool {
        guard let data = FileManager.default.contents(atPath: eventsFile) else {
            throw CommandFailure.usage("validate", "cannot read '\(eventsFile)'")
        }
        let harness = try ProjectionHarness(Plan(pipeline))
        var counters = PlanResult.Counters()
        var seen: [String: Int] = [:]
        var errors: [String] = []
        var events = 0
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
            if text.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            events += 1
            if let type = pipeline.eventType(ofJSON: text) { seen[type, default: 0] += 1 }
            let batch = try harness.send(TestMessage(text))
            counters.applied += batch.counters.applied
            counters.filtered += batch.counters.filtered
            counters.deduplicated += batch.counters.deduplicated
            counters.ignoredUnknownType += batch.counters.ignoredUnknownType
            for error in batch.failedEvents + (batch.failure.map { [$0] } ?? []) {
                errors.append("\(eventsFile):\(index + 1): \(error.code): \(error.message)")
            }
        }
        print("\(file): \(events) event(s) from \(eventsFile) in memory: \(counters.applied) applied, "
              + "\(counters.filtered) filtered, \(counters.deduplicated) deduplicated, \(counters.ignoredUnknownType) of a type without handler, "
              + "\(errors.count) event error(s) (on_error: \(pipeline.onError.rawValue))")
        for view in pipeline.views {
            let rows = try harness.store.rows(ofView: view.name, limit: nil)
            print("")
            print("view \(view.name): \(rows.rows.count) row(s)\(rows.rows.count > rowsPerView ? ", the first \(rowsPerView)" : "")")
            if !rows.rows.isEmpty {
                print(TextTable(columns: rows.columns, rows: rows.rows.prefix(rowsPerView).map { $0.map(\.displayText) }).rendered)
            }
        }
        let handled = Set(pipeline.eventTypes)
        let unhandled = seen.keys.filter { !handled.contains($0) }.sorted()
        let neverTriggered = pipeline.eventTypes.filter { $0 != "*" && $0 != "_tombstone" && seen[$0] == nil }
        print("")
        print("event types without a handler: " + (unhandled.isEmpty ? "none" : unhandled.map { "\($0) (\(seen[$0]!))" }.joined(separator: ", ")))
        print("handlers never triggered: " + (neverTriggered.isEmpty ? "none" : neverTriggered.joined(separator: ", ")))
        if !errors.isEmpty {
            print("")
            print("event errors:")
            for error in errors { print("  \(error)") }
        }
        return !errors.isEmpty
    }
}
