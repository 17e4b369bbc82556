import Foundation
import Testing
@testable import Pipelines
import ProjectorModel

func counterPipeline(onError: String = "fail", extra: String = "", handlers: String? = nil) throws -> Plan {
    Plan(try pipeline("""
        name: counts
        version: 1
        source:
          topics: [orders]
          type: $.t
        \(extra)
        on_error: \(onError)
        views:
          c:
            key: [id]
            columns: {id: text, n: integer, a: integer, b: integer, note: {type: text, default: "'-'"}}
        on:
        \(handlers ?? """
          Add:
            - upsert: c
              key: {id: $.id}
              set: {n: n + $.by}
          Touch:
            - update: c
              key: {id: $.id}
              set: {note: "'touched'"}
          Remove:
            - delete: c
              key: {id: $.id}
        """)
        """))
}

func event(_ type: String, _ id: String?, _ fields: String = "") -> TestMessage {
    let idPart = id.map { #","id":"\#($0)""# } ?? ""
    return TestMessage(key: id, value: #"{"t":"\#(type)"\#(idPart)\#(fields.isEmpty ? "" : "," + fields)}"#)
}

@Suite struct PlanTests {
    @Test func upsertInsertsThenUpdatesOnlyListedColumns() throws {
        let plan = try counterPipeline()
        var store = MemoryStore(plan)
        try run(plan, [event("Add", "x", #""by":2"#)], store: &store)
        #expect(store.tables[0][[.text("x")]] == [.text("x"), .integer(2), .integer(0), .integer(0), .text("-")])
        try run(plan, [event("Touch", "x"), event("Add", "x", #""by":3"#)], store: &store)
        #expect(store.tables[0][[.text("x")]] == [.text("x"), .integer(5), .integer(0), .integer(0), .text("touched")])
    }

    @Test func updateAndDeleteOfAnAbsentRowAreCountedNoOps() throws {
        let plan = try counterPipeline()
        var store = MemoryStore(plan)
        let result = try run(plan, [event("Touch", "nope"), event("Remove", "nope")], store: &store)
        #expect(result.changes.isEmpty)
        #expect(result.counters.noOpUpdates == 2)
        #expect(result.counters.applied == 2)
    }

    @Test func coalescesABatchIntoOneChangePerKeyWithOneReadPerKey() throws {
        let plan = try counterPipeline()
        var store = MemoryStore(plan)
        let result = try run(plan, (0..<10).map { event("Add", $0 % 2 == 0 ? "even" : "odd", #""by":1"#) }, store: &store)
        #expect(result.changes.count == 2)
        #expect(store.reads.count == 2)
        #expect(result.changes.map(\.key) == [[.text("even")], [.text("odd")]])
        #expect(store.tables[0][[.text("even")]]?[1] == .integer(5))
    }

    /// A rebuild runs batch after batch into one kept change set (its window): the rows it ends
    /// with are those of one batch over all the messages, each key read once.
    @Test func batchesRunIntoAKeptChangeSetEqualOneBatch() throws {
        let plan = try counterPipeline()
        let messages = (0..<12).map { i in
            i % 5 == 4 ? event("Remove", "k\(i % 3)") : event(i % 4 == 3 ? "Touch" : "Add", "k\(i % 3)", #""by":\#(i)"#)
        }
        var whole = MemoryStore(plan)
        try run(plan, messages, store: &whole)
        var kept = MemoryStore(plan)
        var set = ChangeSet(measuresSize: true)
        var applied = 0
        for batch in stride(from: 0, to: messages.count, by: 5).map({ Array(messages[$0..<min($0 + 5, messages.count)]) }) {
            let result = try run(plan, batch, store: &kept, into: &set)
            #expect(result.changes.isEmpty)
            applied += result.counters.applied
        }
        #expect(kept.reads.count == 3)
        kept.apply(set.changes)
        #expect(kept.tables == whole.tables)
        #expect(applied == messages.count)
        #expect(set.estimatedBytes > 0)
        set.removeAll()
        #expect(set.isEmpty && set.estimatedBytes == 0)
    }

    /// SQLite compares text keys by their bytes, so the batch does too: "é" written precomposed
    /// and decomposed are two rows, and a text that changes only its normalization is a change.
    @Test func textKeysAndCellsCompareByTheirBytes() throws {
        let plan = try counterPipeline(handlers: """
              Add:
                - upsert: c
                  key: {id: $.id}
                  set: {n: n + $.by, note: $.note}
            """)
        var store = MemoryStore(plan)
        let composed = "caf\u{e9}", decomposed = "cafe\u{301}"
        #expect(composed == decomposed, "Swift's String == merges canonically equivalent texts")
        let result = try run(plan, [
            event("Add", composed, #""by":1,"note":"x""#), event("Add", decomposed, #""by":2,"note":"x""#),
        ], store: &store)
        #expect(result.changes.count == 2)
        #expect(store.reads.count == 2)
        let renamed = try run(plan, [event("Add", composed, #""by":0,"note":"\#(decomposed)""#)], store: &store)
        try run(plan, [event("Add", composed, #""by":0,"note":"\#(composed)""#)], store: &store)
        let back = try run(plan, [event("Add", composed, #""by":0,"note":"\#(decomposed)""#)], store: &store)
        #expect(renamed.changes.count == 1)
        #expect(back.changes.count == 1, "a cell whose bytes change is written even when String == calls it equal")
    }

    @Test func skipsKeysWhoseFinalStateIsWhatWasRead() throws {
        let plan = try counterPipeline()
        var store = MemoryStore(plan)
        var result = try run(plan, [event("Add", "tmp", #""by":1"#), event("Remove", "tmp")], store: &store)
        #expect(result.changes.isEmpty)
        try run(plan, [event("Add", "x", #""by":1"#)], store: &store)
        result = try run(plan, [event("Add", "x", #""by":1"#), event("Add", "x", #""by":-1"#)], store: &store)
        #expect(result.changes.isEmpty)
        result = try run(plan, [event("Remove", "x")], store: &store)
        #expect(result.changes == [ViewChange(view: 0, key: [.text("x")], row: nil)])
    }

    @Test func setExpressionsSeeTheRowBeforeTheOperation() throws {
        let plan = try counterPipeline(handlers: """
              Init:
                - upsert: c
                  key: {id: $.id}
                  set: {a: 1, b: 2}
              Swap:
                - update: c
                  key: {id: $.id}
                  set: {a: b, b: a, n: a + b}
            """)
        var store = MemoryStore(plan)
        try run(plan, [event("Init", "x"), event("Swap", "x")], store: &store)
        #expect(store.tables[0][[.text("x")]]?[1...3] == [.integer(3), .integer(2), .integer(1)])
    }

    @Test func operationsRunInOrderAndTheWildcardRunsLast() throws {
        let plan = try counterPipeline(handlers: """
              Add:
                - upsert: c
                  key: {id: $.id}
                  set: {n: 10}
                - update: c
                  key: {id: $.id}
                  set: {n: n * 2}
              "*":
                - update: c
                  key: {id: $.id}
                  set: {n: n + 1, note: $.t}
            """)
        var store = MemoryStore(plan)
        let result = try run(plan, [event("Add", "x"), event("Other", "x")], store: &store)
        #expect(store.tables[0][[.text("x")]]?[1] == .integer(22))
        #expect(store.tables[0][[.text("x")]]?[4] == .text("Other"))
        #expect(result.counters.applied == 2)
        #expect(result.counters.ignoredUnknownType == 0)
    }

    @Test func routesTypesWrittenWithEscapes() throws {
        let plan = try counterPipeline()
        var store = MemoryStore(plan)
        let result = try run(plan, [TestMessage(key: nil, value: #"{"t":"\u0041dd","id":"x","by":4}"#)], store: &store)
        #expect(result.counters.applied == 1)
        #expect(store.tables[0][[.text("x")]]?[1] == .integer(4))
    }

    @Test func unknownTypesAreIgnoredOrFail() throws {
        var plan = try counterPipeline()
        var store = MemoryStore(plan)
        var result = try run(plan, [event("Nope", "x")], store: &store)
        #expect(result.counters.ignoredUnknownType == 1)
        plan = try counterPipeline(onError: "skip", extra: "on_unknown_type: error")
        store = MemoryStore(plan)
        result = try run(plan, [event("Nope", "x")], store: &store)
        #expect(result.errors.map(\.code) == [.unknownType])
        #expect(result.counters.skipped == 1)
    }

    @Test func anEventIsAllOrNothing() throws {
        let plan = try counterPipeline(onError: "skip", handlers: """
              Add:
                - upsert: c
                  key: {id: $.id}
                  set: {n: n + 1}
                - upsert: c
                  key: {id: "'other'"}
                  set: {n: round(10 / $.div)}
            """)
        var store = MemoryStore(plan)
        let result = try run(plan, [
            event("Add", "x", #""div":1"#), event("Add", "x", #""div":0"#), event("Add", "x", #""div":2"#),
        ], store: &store)
        #expect(result.errors.map(\.messageIndex) == [1])
        #expect(result.errors.first?.code == .divisionByZero)
        #expect(result.errors.first?.message.contains("set.n") == true)
        #expect(result.counters.skipped == 1)
        #expect(result.counters.applied == 2)
        #expect(store.tables[0][[.text("x")]]?[1] == .integer(2))
    }

    @Test func failStopsAtTheFirstFailingMessage() throws {
        let plan = try counterPipeline(onError: "fail")
        var store = MemoryStore(plan)
        let result = try run(plan, [
            event("Add", "a", #""by":1"#), event("Add", "b", #""by":"x""#), event("Add", "c", #""by":1"#),
        ], store: &store)
        #expect(result.stoppedAt == 1)
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.code == .typeMismatch)
        #expect(result.errors.first?.message == "`set.n` of `upsert: c` ((n + $.by)): `+` needs numbers, not integer and text")
        #expect(result.changes.map(\.key) == [[.text("a")]])
    }

    @Test func deadLetterCountsAndGoesOn() throws {
        let plan = try counterPipeline(onError: "dead-letter")
        var store = MemoryStore(plan)
        let result = try run(plan, [
            TestMessage(key: "k", value: "{not json", partition: 3, offset: 77),
            TestMessage(key: "k", value: ""),
            TestMessage(key: "k", value: "[1]"),
            TestMessage(key: "k", value: #"{"id":"x"}"#),
            TestMessage(key: "k", value: #"{"t":5}"#),
            event("Add", nil, #""by":1"#),
            event("Add", "ok", #""by":1"#),
        ], store: &store)
        #expect(result.errors.map(\.code) == [.malformedJSON, .malformedJSON, .notAnObject, .missingType, .missingType, .nullKey])
        #expect(result.errors.first?.partition == 3 && result.errors.first?.offset == 77)
        #expect(result.counters.deadLettered == 6)
        #expect(result.counters.applied == 1)
    }

    @Test func filterRunsBeforeHandlers() throws {
        let plan = try counterPipeline(extra: "  filter: $.by > 0")
        var store = MemoryStore(plan)
        let result = try run(plan, [event("Add", "x", #""by":-1"#), event("Add", "x"), event("Add", "x", #""by":2"#)], store: &store)
        #expect(result.counters.filtered == 2)
        #expect(store.tables[0][[.text("x")]]?[1] == .integer(2))
    }

    @Test func dedupeSkipsSeenIdsAndRecordsOnlyAppliedEvents() throws {
        let plan = try counterPipeline(onError: "skip", extra: "  dedupe_by: $.eid")
        #expect(plan.views.map(\.name) == ["c", "_projector_seen_counts"])
        var store = MemoryStore(plan)
        var result = try run(plan, [
            event("Add", "x", #""by":1,"eid":"e1""#), event("Add", "x", #""by":1,"eid":"e1""#),
            event("Add", "x", #""by":"bad","eid":"e2""#), event("Nope", "x", #""eid":"e3""#),
        ], store: &store)
        #expect(result.counters.deduplicated == 1)
        #expect(result.counters.skipped == 1)
        #expect(store.tables[1].keys.sorted { "\($0)" < "\($1)" } == [[.text("e1")]])
        result = try run(plan, [event("Add", "x", #""by":1,"eid":"e1""#), event("Add", "x", #""by":5,"eid":"e2""#)], store: &store)
        #expect(result.counters.deduplicated == 1)
        #expect(store.tables[0][[.text("x")]]?[1] == .integer(6))
        #expect(store.tables[1].count == 2)
    }

    @Test func tombstonesUseTheirHandlerOrAreSkipped() throws {
        var plan = try counterPipeline()
        var store = MemoryStore(plan)
        var result = try run(plan, [TestMessage(key: "x", value: nil)], store: &store)
        #expect(result.counters.tombstonesSkipped == 1)
        plan = try counterPipeline(handlers: """
              Add:
                - upsert: c
                  key: {id: $.id}
                  set: {n: 1}
              _tombstone:
                - delete: c
                  key: {id: $key}
              "*":
                - update: c
                  key: {id: $.id}
                  set: {note: "'wildcard'"}
            """)
        store = MemoryStore(plan)
        result = try run(plan, [event("Add", "x"), event("Add", "y"), TestMessage(key: "x", value: nil)], store: &store)
        #expect(store.tables[0].keys.map { $0 } == [[.text("y")]])
        #expect(store.tables[0][[.text("y")]]?[4] == .text("wildcard"))
        #expect(result.counters.applied == 3)
    }

    @Test func sourceKeyIsDollarKeyAndANullOneFails() throws {
        let plan = try counterPipeline(onError: "skip", extra: "  key: $.agg", handlers: """
              Add:
                - upsert: c
                  key: {id: $key}
                  set: {n: 1}
            """)
        var store = MemoryStore(plan)
        let result = try run(plan, [
            TestMessage(key: "kafka-key", value: #"{"t":"Add","agg":"from-payload"}"#),
            TestMessage(key: "kafka-key", value: #"{"t":"Add"}"#),
        ], store: &store)
        #expect(Array(store.tables[0].keys) == [[.text("from-payload")]])
        #expect(result.errors.map(\.code) == [.nullKey])
    }

    @Test func messageKeyIsTheDefaultKey() throws {
        let plan = try counterPipeline(handlers: """
              Add:
                - upsert: c
                  key: {id: $key}
                  set: {n: 1}
            """)
        var store = MemoryStore(plan)
        try run(plan, [TestMessage(key: "from-kafka", value: #"{"t":"Add"}"#)], store: &store)
        #expect(Array(store.tables[0].keys) == [[.text("from-kafka")]])
    }

    @Test func upcastsRenameAndDefaultInChainedSteps() throws {
        let plan = Plan(try pipeline("""
            name: up
            version: 1
            source: {topics: [orders], type: $.t, version: $.v}
            views:
              o:
                key: [id]
                columns: {id: text, total: real, currency: text, old: real, region: text}
            upcast:
              Created:
                - from: 1
                  rename: {$.amount: $.total}
                  default: {$.currency: "'EUR'"}
                - from: 2
                  rename: {$.total: $.money.total}
                  default: {$.region: "'eu'"}
            on:
              Created:
                - upsert: o
                  key: {id: $.id}
                  set:
                    total: $.money.total
                    currency: $.currency
                    old: coalesce($.amount, $.total)
                    region: $.region
            """))
        var store = MemoryStore(plan)
        let result = try run(plan, [
            TestMessage(key: nil, value: #"{"t":"Created","id":"v1","amount":10}"#),
            TestMessage(key: nil, value: #"{"t":"Created","id":"v1null","v":1,"amount":11,"currency":null}"#),
            TestMessage(key: nil, value: #"{"t":"Created","id":"v2","v":2,"total":20,"currency":"USD","region":"us"}"#),
            TestMessage(key: nil, value: #"{"t":"Created","id":"v3","v":3,"money":{"total":30},"currency":"GBP"}"#),
            TestMessage(key: nil, value: #"{"t":"Created","id":"v1keep","v":1,"total":9}"#),
        ], store: &store)
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(store.tables[0][[.text("v1")]] == [.text("v1"), .real(10), .text("EUR"), .null, .text("eu")])
        #expect(store.tables[0][[.text("v1null")]]?[2] == .text("EUR"))
        #expect(store.tables[0][[.text("v2")]] == [.text("v2"), .real(20), .text("USD"), .null, .text("us")])
        // The rename source is missing: the target keeps its own value (then moves on in step 2).
        #expect(store.tables[0][[.text("v1keep")]]?[1] == .real(9))
        #expect(store.tables[0][[.text("v3")]] == [.text("v3"), .real(30), .text("GBP"), .null, .null])
    }

    @Test func runsTheSameAcrossBatchBoundaries() throws {
        let plan = try counterPipeline()
        let messages = (0..<50).map { i in event(i % 7 == 0 ? "Remove" : "Add", "k\(i % 5)", #""by":\#(i)"#) }
        var whole = MemoryStore(plan)
        try run(plan, messages, store: &whole)
        var split = MemoryStore(plan)
        for start in stride(from: 0, to: 50, by: 7) { try run(plan, Array(messages[start..<min(start + 7, 50)]), store: &split) }
        #expect(whole.tables == split.tables)
    }

    @Test func readerErrorsPropagate() throws {
        struct Broken: RowReader, Error {
            mutating func row(in view: Int, key: [ViewValue]) throws -> [ViewValue]? { throw self }
            mutating func rows(in view: Int, keyPrefix: [ViewValue], upTo: ViewValue) throws -> [[ViewValue]] { throw self }
        }
        let plan = try counterPipeline()
        let bytes = Array(#"{"t":"Add","id":"x","by":1}"#.utf8)
        var reader = Broken()
        #expect(throws: Broken.self) {
            try bytes.withUnsafeBytes { value in
                let messages = [RawMessage(key: nil, value: value, topic: 0, partition: 0, offset: 0, timestamp: nil)]
                _ = try messages.withUnsafeBufferPointer { try plan.run($0, rows: &reader) }
            }
        }
    }

    @Test func compositeKeysAndIntegerKeys() throws {
        let plan = Plan(try pipeline("""
            name: ck
            version: 1
            source: {topics: [orders], type: $.t}
            views:
              line:
                key: [order_id, line_no]
                columns: {order_id: text, line_no: integer, qty: integer}
            on:
              L:
                - upsert: line
                  key: {line_no: $.n, order_id: $.o}
                  set: {qty: qty + $.q}
            """))
        var store = MemoryStore(plan)
        let result = try run(plan, [
            TestMessage(key: nil, value: #"{"t":"L","o":"a","n":1,"q":2}"#),
            TestMessage(key: nil, value: #"{"t":"L","o":"a","n":1,"q":3}"#),
            TestMessage(key: nil, value: #"{"t":"L","o":"a","n":"x","q":3}"#),
        ], store: &store)
        #expect(store.tables[0][[.text("a"), .integer(1)]] == [.text("a"), .integer(1), .integer(5)])
        #expect(result.stoppedAt == 2)
        #expect(result.errors.first?.code == .typeMismatch)
    }
}
