import Foundation
@testable import Pipelines
import ProjectorModel

/// An in-memory store: one dictionary per table, keyed by the key values.
struct MemoryStore: RowReader {
    var tables: [[[ViewValue]: [ViewValue]]]
    var reads: [[ViewValue]] = []

    init(_ plan: Plan) { tables = Array(repeating: [:], count: plan.views.count) }

    mutating func row(in view: Int, key: [ViewValue]) throws -> [ViewValue]? {
        reads.append(key)
        return tables[view][key]
    }

    mutating func rows(in view: Int, keyPrefix: [ViewValue], upTo: ViewValue) throws -> [[ViewValue]] {
        tables[view].filter { key, _ in
            ViewValue.areIdentical(Array(key.prefix(keyPrefix.count)), keyPrefix) && !ViewValue.precedes([upTo], [key[keyPrefix.count]])
        }.sorted { ViewValue.precedes($0.key, $1.key) }.map(\.value)
    }

    mutating func apply(_ changes: [ViewChange]) {
        for change in changes { tables[change.view][change.key] = change.row }
    }

    /// The rows of `view` sorted by key, as dictionaries of column name → JSON-like value.
    func rows(_ plan: Plan, _ view: String) -> [[String: ViewValue]] {
        let index = plan.views.firstIndex { $0.name == view }!
        let definition = plan.views[index]
        return tables[index].values.map { row in
            Dictionary(uniqueKeysWithValues: zip(definition.columns.map(\.name), row))
        }.sorted { "\($0.sortKey(definition))" < "\($1.sortKey(definition))" }
    }
}

extension Dictionary where Key == String, Value == ViewValue {
    func sortKey(_ view: ViewDefinition) -> String {
        view.keyColumns.map { "\(self[view.columns[$0].name]!)" }.joined(separator: "|")
    }
}

/// A message for tests: owned bytes, turned into `RawMessage`s for the duration of a run.
struct TestMessage {
    var key: String?
    var value: String?
    var topic = 0
    var partition: Int32 = 0
    var offset: Int64 = 0  // as given
    var timestamp: Int64? = 1_700_000_000_000
}

/// Runs `messages` through `plan` against `store`, applying the resulting changes.
@discardableResult
func run(_ plan: Plan, _ messages: [TestMessage], store: inout MemoryStore, apply: Bool = true) throws -> PlanResult {
    let result = try withRawMessages(messages) { try plan.run($0, rows: &store) }
    if apply { store.apply(result.changes) }
    return result
}

/// Runs `messages` as one batch into `set`, a change set kept across batches (nothing is applied to `store`).
func run(_ plan: Plan, _ messages: [TestMessage], store: inout MemoryStore, into set: inout ChangeSet) throws -> PlanResult {
    try withRawMessages(messages) { try plan.run($0, rows: &store, into: &set) }
}

/// Calls `body` with the messages as a batch of `RawMessage`s (valid only inside `body`).
func withRawMessages<R>(_ messages: [TestMessage], _ body: (UnsafeBufferPointer<RawMessage>) throws -> R) throws -> R {
    let keys = messages.map { $0.key.map { Array($0.utf8) } }
    let values = messages.map { $0.value.map { Array($0.utf8) } }
    var raws: [RawMessage] = []
    var pointers: [UnsafeMutableRawBufferPointer] = []
    defer { for p in pointers { p.deallocate() } }
    func copy(_ bytes: [UInt8]?) -> UnsafeRawBufferPointer? {
        guard let bytes else { return nil }
        let p = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        p.copyBytes(from: bytes)
        pointers.append(p)
        return UnsafeRawBufferPointer(rebasing: p[0..<bytes.count])
    }
    for (i, m) in messages.enumerated() {
        raws.append(RawMessage(key: copy(keys[i]), value: copy(values[i]), topic: m.topic, partition: m.partition,
                               offset: m.offset, timestamp: m.timestamp))
    }
    return try raws.withUnsafeBufferPointer { try body($0) }
}

func pipeline(_ yaml: String) throws -> Pipeline { try Pipeline(yaml: yaml, file: "test.yaml") }

/// The problems of an invalid definition (empty when it is valid).
func problems(_ yaml: String) -> [PipelineError] {
    do {
        _ = try Pipeline(yaml: yaml, file: "test.yaml")
        return []
    } catch {
        return error.problems
    }
}

/// The repository root (for `pipelines/`).
let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
