import Foundation
import Testing
@testable import Pipelines
import ProjectorModel

/// Findings of issue 17 in the plan and the validator, each checked against what failed before.
@Suite("Issue 17 findings in the language")
struct FindingTests {
    @Test("finding 5: `status: 'open'` (quotes eaten by YAML) suggests \"'open'\"")
    func eatenQuotes() {
        let found = problems("""
            name: p
            version: 1
            source: {topics: [t], type: $.t}
            views:
              v: {key: [id], columns: {id: text, status: text}}
            on:
              Opened:
                - upsert: v
                  key: {id: $key}
                  set: {status: 'open'}
            """)
        #expect(found.count == 1)
        #expect(found.first?.message.contains(#"write "'open'""#) == true, "\(found)")
    }

    @Test("finding 10: invalid UTF-8 inside a JSON string is malformed JSON, an event error")
    func invalidUTF8() throws {
        let plan = try counterPipeline(onError: "skip", handlers: """
              Add:
                - upsert: c
                  key: {id: $.id}
                  set: {note: $.note}
            """)
        var store = MemoryStore(plan)
        let good = #"{"t":"Add","id":"a","note":"café ✓ 𝄞"}"#
        // Raw bytes: a Swift String would repair them.
        let rawBad: [[UInt8]] = [[0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xFF], [0x80]].map {
            Array(#"{"t":"Add","id":"b","note":"0123456789abcdef"#.utf8) + $0 + Array(#"y"}"#.utf8)
        }
        let result = try runBytes(plan, [Array(good.utf8)] + rawBad, store: &store)
        #expect(result.errors.count == rawBad.count)
        #expect(result.errors.allSatisfy { $0.code == .malformedJSON && $0.message.contains("UTF-8") })
        #expect(store.rows(plan, "c").map { $0["id"] } == [.text("a")])
        #expect(store.rows(plan, "c").first?["note"] == .text("café ✓ 𝄞"))
    }

    @Test("finding 11: under on_unknown_type: error an unknown type that filter drops is filtered, not an error")
    func filterBeforeUnknownType() throws {
        let filtered = Plan(try pipeline("""
            name: counts
            version: 1
            source: {topics: [orders], type: $.t, filter: "coalesce($.keep, false)"}
            on_unknown_type: error
            views:
              c: {key: [id], columns: {id: text, n: integer}}
            on:
              Add:
                - upsert: c
                  key: {id: $.id}
                  set: {n: n + 1}
            """))
        var store = MemoryStore(filtered)
        let result = try run(filtered, [
            event("Unknown", "a", #""keep":false"#),
            event("Unknown", "b"),
            event("Unknown", "c", #""keep":true"#),
            event("Add", "d", #""keep":true"#),
        ], store: &store)
        #expect(result.counters.filtered == 2)
        #expect(result.errors.map(\.messageIndex) == [2])
        #expect(result.errors.first?.code == .unknownType)
        #expect(result.stoppedAt == 2)
    }
}

/// Runs raw byte values (no key) through `plan`, applying the changes.
func runBytes(_ plan: Plan, _ values: [[UInt8]], store: inout MemoryStore) throws -> PlanResult {
    var buffers: [UnsafeMutableRawBufferPointer] = []
    defer { for b in buffers { b.deallocate() } }
    var raws: [RawMessage] = []
    for (i, bytes) in values.enumerated() {
        let p = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        p.copyBytes(from: bytes)
        buffers.append(p)
        raws.append(RawMessage(key: nil, value: UnsafeRawBufferPointer(p), topic: 0, partition: 0, offset: Int64(i), timestamp: nil))
    }
    let result = try raws.withUnsafeBufferPointer { try plan.run($0, rows: &store) }
    store.apply(result.changes)
    return result
}
