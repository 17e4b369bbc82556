import Testing
@testable import Pipelines
import ProjectorModel

/// A store of one table per view that counts its reads.
private struct CountingRows: RowReader {
    var stored: [ViewChange] = []
    var reads = 0

    mutating func row(in view: Int, key: [ViewValue]) throws -> [ViewValue]? {
        reads += 1
        return stored.first { $0.view == view && ViewValue.areIdentical($0.key, key) }?.row
    }

    mutating func rows(in view: Int, keyPrefix: [ViewValue], upTo: ViewValue) throws -> [[ViewValue]] { [] }
}

@Suite struct ChangeSetTests {
    /// The index finds a key by SQLite's identity (text by bytes, 0.0 and -0.0 alike, an integer
    /// never equal to a real), per view, across the table's growth from its first 16 slots.
    @Test func findsEachKeyOnceByIdentityAcrossGrowth() throws {
        var rows = CountingRows(stored: [ViewChange(view: 1, key: [.text("k7"), .integer(7)], row: [.text("stored")])])
        var set = ChangeSet()
        var entries: [Int] = []
        for i in 0..<200 {
            entries.append(try set.entry(view: i % 2, key: [.text("k\(i / 2)"), .integer(Int64(i / 2))], rows: &rows))
        }
        #expect(rows.reads == 200)
        for i in 0..<200 {
            #expect(try set.entry(view: i % 2, key: [.text("k\(i / 2)"), .integer(Int64(i / 2))], rows: &rows) == entries[i])
        }
        #expect(rows.reads == 200)
        #expect(set.row(entries[15]) == [.text("stored")])
        #expect(set.held(view: 0, key: [.text("k7"), .integer(7)]) == .some(nil))
        #expect(set.held(view: 2, key: [.text("k7"), .integer(7)]) == nil)

        let zero = try set.entry(view: 0, key: [.real(0)], rows: &rows)
        #expect(try set.entry(view: 0, key: [.real(-0.0)], rows: &rows) == zero)
        #expect(try set.entry(view: 0, key: [.integer(0)], rows: &rows) != zero)
        let composed = try set.entry(view: 0, key: [.text("caf\u{e9}")], rows: &rows)
        #expect(try set.entry(view: 0, key: [.text("cafe\u{301}")], rows: &rows) != composed)
        #expect(rows.reads == 204)
    }

    /// A rebuild reuses a written window's set (``ChangeSet/removeAll()``): none of its keys is
    /// found again, and keys added after are indexed anew (their slots hold no earlier hash bits).
    @Test func anEmptiedSetForgetsItsKeysAndIndexesNewOnes() throws {
        var rows = CountingRows()
        var set = ChangeSet()
        for i in 0..<100 { _ = try set.entry(view: 0, key: [.text("old-\(i)")], rows: &rows) }
        set.removeAll()
        #expect(set.isEmpty)
        #expect(set.held(view: 0, key: [.text("old-7")]) == nil)
        let fresh = (0..<100).map { i in try? set.entry(view: 0, key: [.text("new-\(i)")], rows: &rows) }
        #expect(fresh == Array(0..<100))
        for i in 0..<100 { #expect(set.held(view: 0, key: [.text("new-\(i)")]) == .some(nil)) }
        #expect(set.held(view: 0, key: [.text("old-7")]) == nil)
        #expect(rows.reads == 200)
    }

    /// Identical keys hash alike; the view is part of the hash.
    @Test func identityHashFollowsIdentity() {
        #expect(ViewValue.identityHash(of: [.real(0)]) == ViewValue.identityHash(of: [.real(-0.0)]))
        #expect(ViewValue.identityHash(of: [.text("ab"), .text("c")]) != ViewValue.identityHash(of: [.text("a"), .text("bc")]))
        #expect(ViewValue.identityHash(of: [.text("a-long-key-of-19-b")], seed: 0) != ViewValue.identityHash(of: [.text("a-long-key-of-19-b")], seed: 1))
        #expect(ViewValue.identityHash(of: [.text("")]) != ViewValue.identityHash(of: [.null]))
    }

    /// Cells set in place are restored by a rollback, whole rows too, in reverse order; the
    /// stored state stays what was read.
    @Test func rollbackRestoresCellsAndRows() throws {
        var rows = CountingRows(stored: [ViewChange(view: 0, key: [.text("a")], row: [.text("a"), .integer(1)])])
        var set = ChangeSet()
        set.beginEvent()
        let a = try set.entry(view: 0, key: [.text("a")], rows: &rows)
        set.set(a, column: 1, .integer(2))
        set.beginEvent()
        set.set(a, column: 1, .integer(3))
        set.set(a, nil)
        let b = try set.entry(view: 0, key: [.text("b")], rows: &rows)
        set.set(b, [.text("b"), .integer(9)])
        set.set(b, column: 1, .integer(10))
        set.rollbackEvent()
        #expect(set.row(a) == [.text("a"), .integer(2)])
        #expect(set.stored(a) == [.text("a"), .integer(1)])
        #expect(set.row(b) == nil)
        #expect(set.changes == [ViewChange(view: 0, key: [.text("a")], row: [.text("a"), .integer(2)])])
    }

    /// A failing event leaves a row another event of the batch changed in place as that event left it.
    @Test func aFailedEventKeepsTheRowsOfTheEventsBefore() throws {
        let plan = try counterPipeline(onError: "skip", handlers: """
              Add:
                - upsert: c
                  key: {id: $.id}
                  set: {n: n + $.by, a: a + 1}
                - upsert: c
                  key: {id: $.other}
                  set: {b: b + 1}
            """)
        var store = MemoryStore(plan)
        let result = try run(plan, [
            event("Add", "x", #""by":2,"other":"y""#), event("Add", "x", #""by":5"#), event("Add", "x", #""by":7,"other":"y""#),
        ], store: &store)
        #expect(result.counters.skipped == 1)
        #expect(store.tables[0][[.text("x")]] == [.text("x"), .integer(9), .integer(2), .integer(0), .text("-")])
        #expect(store.tables[0][[.text("y")]] == [.text("y"), .integer(0), .integer(0), .integer(2), .text("-")])
    }

    /// A key found by the message's bytes (`ChangeSet.probe`) is the key stored: a Kafka key that
    /// is not valid UTF-8 is stored as the text it decodes to, so it and that text, in whichever
    /// order a batch meets them, count into one row (a probe of the raw bytes would add a second
    /// entry for the same stored key).
    @Test func keysProbedFromTheMessageAreTheKeysStored() throws {
        let plan = Plan(try pipeline("""
            name: probe
            version: 1
            source: {topics: [t], type: $.type}
            views:
              counts:
                key: [id]
                columns: {id: text, n: integer}
            on:
              Seen:
                - upsert: counts
                  key: {id: $key}
                  set: {n: "coalesce(n, 0) + 1"}
            """))
        let invalid: [UInt8] = [0x6B, 0xFF]
        let decoded = Array(String(decoding: invalid, as: UTF8.self).utf8)
        let value = Array(#"{"type":"Seen"}"#.utf8)
        for keys in [[invalid, invalid, decoded], [decoded, invalid, decoded, invalid]] {
            var store = MemoryStore(plan)
            let buffers = (keys + [value]).map { bytes in
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
                buffer.copyBytes(from: bytes)
                return buffer
            }
            defer { for buffer in buffers { buffer.deallocate() } }
            let messages = keys.indices.map { index in
                RawMessage(key: UnsafeRawBufferPointer(buffers[index]), value: UnsafeRawBufferPointer(buffers[keys.count]),
                           topic: 0, partition: 0, offset: Int64(index), timestamp: nil)
            }
            let result = try messages.withUnsafeBufferPointer { try plan.run($0, rows: &store) }
            #expect(result.changes.count == 1)
            #expect(result.changes.first?.row == [.text(String(decoding: invalid, as: UTF8.self)), .integer(Int64(keys.count))])
        }
    }

    /// A rebuild's window keeps one change set over many batches, whose messages are freed after
    /// each: text a row took from a message (key and cells) is copied into the set, so the rows
    /// are what the events said after their bytes are overwritten; an upsert whose event fails
    /// leaves no new row behind.
    @Test func rowsKeepTheirTextAfterTheMessageIsGone() throws {
        let plan = Plan(try pipeline("""
            name: window
            version: 1
            on_error: skip
            source: {topics: [t], type: $.type}
            views:
              notes:
                key: [id]
                columns: {id: text, note: text, n: {type: integer, not_null: true}}
            on:
              Note:
                - upsert: notes
                  key: {id: $.id}
                  set: {note: $.note, n: $.n}
            """))
        var set = ChangeSet(measuresSize: true)
        var store = MemoryStore(plan)
        let documents = [
            #"{"type":"Note","id":"a-key-longer-than-fifteen","note":"first note, long enough to be on the heap","n":1}"#,
            #"{"type":"Note","id":"b","note":"short","n":null}"#,
            #"{"type":"Note","id":"a-key-longer-than-fifteen","note":"second","n":2}"#,
        ]
        for document in documents {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: document.utf8.count, alignment: 1)
            buffer.copyBytes(from: Array(document.utf8))
            let message = RawMessage(key: nil, value: UnsafeRawBufferPointer(buffer), topic: 0, partition: 0, offset: 0, timestamp: nil)
            _ = try [message].withUnsafeBufferPointer { try plan.run($0, rows: &store, into: &set) }
            buffer.initializeMemory(as: UInt8.self, repeating: 0x58)
            buffer.deallocate()
        }
        #expect(set.changes == [ViewChange(view: 0, key: [.text("a-key-longer-than-fifteen")],
                                           row: [.text("a-key-longer-than-fifteen"), .text("second"), .integer(2)])])
        // What the same keys and rows cost as arrays of values: the 25-byte key and the first row
        // it held (the key again, a 41-byte note), and the key of the failed event, which holds no row.
        #expect(set.estimatedBytes == 104 + (32 + 24 + 32 + 25) + (32 + 24 * 3 + 32 + 25 + 32 + 41) + 104 + (32 + 24))
    }
}

/// A set that defers reads keeps a row it did not read as the columns written; reading it lays
/// them over the stored row, and a rolled-back event restores the unread state, the read included.
@Suite struct UnreadEntryTests {
    @Test func writtenColumnsLieOverTheStoredRowAndRollBackWithTheRead() throws {
        var rows = CountingRows(stored: [ViewChange(view: 0, key: [.text("k")], row: [.text("k"), .text("stored"), .integer(1)])])
        var set = ChangeSet(defersReads: true)
        let entry = try set.entry(view: 0, taking: [.text("k")], hash: nil, rows: &rows, deferring: true)
        #expect(!set.isRead(entry) && set.assigned(entry) == 0 && rows.reads == 0)
        set.beginEvent()
        set.assign(entry, [.text("k"), .text("default"), .integer(5)], columns: 0b101)
        #expect(set.changes == [ViewChange(view: 0, key: [.text("k")], row: [.text("k"), .text("default"), .integer(5)], assignedColumns: 0b101)])

        set.beginEvent()
        try set.resolve(entry, rows: &rows)
        #expect(set.row(entry) == [.text("k"), .text("stored"), .integer(5)], "column 1 as stored, column 2 as written")
        set.set(entry, column: 1, .text("changed"))
        set.rollbackEvent()
        #expect(!set.isRead(entry) && set.assigned(entry) == 0b101)
        #expect(set.held(view: 0, key: [.text("k")]) == nil, "an unread row is not known whole")

        #expect(try set.entry(view: 0, key: [.text("k")], rows: &rows) == entry)
        #expect(rows.reads == 2 && set.isRead(entry))
        #expect(set.changes == [ViewChange(view: 0, key: [.text("k")], row: [.text("k"), .text("stored"), .integer(5)])])
    }
}

/// A rebuild's window written in key order: the same changes as in first-touch order, each
/// table's whole rows and deletions first, then its rows written in part by their columns,
/// each group by key as the table's primary key orders it.
@Suite struct ChangesInKeyOrderTests {
    @Test func sameChangesGroupedByTableAndKindInKeyOrder() throws {
        var rows = CountingRows(stored: [ViewChange(view: 0, key: [.text("m")], row: [.text("m"), .integer(1)])])
        var set = ChangeSet(defersReads: true)
        set.beginEvent()
        for name in ["zeta", "m", "caf\u{e9}", "b", "cafe", "10", "9"] {
            let entry = try set.entry(view: 0, key: [.text(name)], rows: &rows)
            set.set(entry, [.text(name), .integer(Int64(name.utf8.count))])
        }
        for number: Int64 in [30, -2, 7] {
            let entry = try set.entry(view: 1, key: [.integer(number)], rows: &rows)
            set.set(entry, [.integer(number)])
        }
        let unread = try set.entry(view: 0, taking: [.text("a")], hash: nil, rows: &rows, deferring: true)
        set.assign(unread, [.text("a"), .integer(0)], columns: 0b10)
        set.set(try set.entry(view: 0, key: [.text("m")], rows: &rows), nil)

        let sorted = set.changesInKeyOrder
        #expect(Set(sorted) == Set(set.changes) && sorted.count == set.changes.count)
        #expect(sorted.map(\.key) == [
            // "m" is deleted (a whole-row change); "caf\u{e9}" sorts after "cafe" by its UTF-8 bytes.
            [.text("10")], [.text("9")], [.text("b")], [.text("cafe")], [.text("caf\u{e9}")], [.text("m")], [.text("zeta")],
            [.text("a")],
            [.integer(-2)], [.integer(7)], [.integer(30)],
        ])
        #expect(sorted[5].row == nil && sorted[7].assignedColumns == 0b10)
    }

    /// Keys order as SQLite's BINARY collation does: by UTF-8 bytes, a prefix first, numbers
    /// by value before text, null first.
    @Test func keysOrderByBytesAndValue() {
        #expect(ViewValue.precedes([.text("ab")], [.text("abc")]))
        #expect(!ViewValue.precedes([.text("abc")], [.text("ab")]))
        #expect(ViewValue.precedes([.text("z")], [.text("\u{e9}")]))
        #expect(ViewValue.precedes([.text("a-key-longer-than-15-bytes-1")], [.text("a-key-longer-than-15-bytes-2")]))
        #expect(!ViewValue.precedes([.text("same")], [.text("same")]))
        #expect(ViewValue.precedes([.null], [.integer(-5)]) && ViewValue.precedes([.integer(3)], [.real(3.5)]))
        #expect(ViewValue.precedes([.real(1e9)], [.text("0")]))
        #expect(ViewValue.precedes([.text("a"), .integer(2)], [.text("a"), .integer(10)]))
    }

    /// The fixed-size prefix a window's sort compares orders as the values do where it differs.
    @Test func orderPrefixesOrderAsTheValues() {
        func before(_ a: ViewValue, _ b: ViewValue) -> Bool {
            let (x, y) = (a.orderPrefix, b.orderPrefix)
            return (x.rank, x.high, x.low) < (y.rank, y.high, y.low)
        }
        #expect(before(.null, .integer(Int64.min)) && before(.integer(-3), .real(-2.5)) && before(.real(-2.5), .integer(0)))
        #expect(before(.integer(0), .real(0.5)) && before(.integer(2), .integer(10)) && before(.real(1e300), .text("")))
        #expect(ViewValue.real(-0.0).orderPrefix == ViewValue.integer(0).orderPrefix)
        #expect(before(.text("ab"), .text("abc")) && before(.text("z"), .text("\u{e9}")) && before(.text("ord-10"), .text("ord-9")))
        #expect(before(.text("sixteen-bytes-ab"), .text("sixteen-bytes-ac")))
        #expect(ViewValue.text("sixteen-bytes-abX").orderPrefix == ViewValue.text("sixteen-bytes-abY").orderPrefix, "alike past 16 bytes")
    }
}
