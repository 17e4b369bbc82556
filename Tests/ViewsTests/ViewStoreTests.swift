import Foundation
import GRDB
import Pipelines
import ProjectorTesting
import Testing
@testable import Views
import ProjectorModel

@Suite("SQLite view store")
struct ViewStoreTests {
    @Test("changes upsert and delete rows that the transaction reads back", arguments: StoreKind.allCases)
    func changesRoundTrip(kind: StoreKind) throws {
        let store = try kind.open().store
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)

        try store.write(pipeline: Orders.name) { tx in
            #expect(try tx.row(in: 0, key: [.text("o1")]) == nil)
            try tx.apply([Orders.order("o2"), Orders.order("o1", total: 12.5), Orders.customer("c1", orders: 2, revenue: 22.5)])
            #expect(try tx.row(in: 0, key: [.text("o1")]) == Orders.order("o1", total: 12.5).row)
        }
        try store.write(pipeline: Orders.name) { tx in
            try tx.apply([Orders.order("o1", status: "shipped", total: 12.5), Orders.deleteOrder("o2"), Orders.deleteOrder("nope")])
            #expect(try tx.row(in: 1, key: [.text("c1")]) == [.text("c1"), .integer(2), .real(22.5)])
        }

        let rows = try store.rows(ofView: "order_summary")
        #expect(rows.columns == ["order_id", "customer_id", "status", "total", "items", "updated_at"])
        #expect(rows.rows == [Orders.order("o1", status: "shipped", total: 12.5).row])
    }

    @Test("rows come back ordered by key, limited on request", arguments: StoreKind.allCases)
    func rowsOrderedByKey(kind: StoreKind) throws {
        let store = try kind.open().store
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        try store.write(pipeline: Orders.name) { tx in
            try tx.apply(["o3", "o1", "o2", "o10"].map { Orders.order($0) })
        }
        #expect(try store.rows(ofView: "order_summary").rows.map { $0[0] } == [.text("o1"), .text("o10"), .text("o2"), .text("o3")])
        #expect(try store.rows(ofView: "order_summary", limit: 2).rows.count == 2)
        #expect(throws: ViewStoreError.self) { try store.rows(ofView: "missing") }
    }

    @Test("a throwing batch keeps neither its rows nor its checkpoints", arguments: StoreKind.allCases)
    func rollbackIsAtomic(kind: StoreKind) throws {
        let store = try kind.open().store
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        let committed = [Checkpoint(topic: "orders", partition: 0, nextOffset: 10)]
        try store.write(pipeline: Orders.name) { tx in
            try tx.apply([Orders.order("o1")])
            try tx.setCheckpoints(committed)
        }

        #expect(throws: Boom.self) {
            try store.write(pipeline: Orders.name) { tx in
                try tx.apply([Orders.order("o1", status: "shipped"), Orders.order("o2")])
                try tx.setCheckpoints([Checkpoint(topic: "orders", partition: 0, nextOffset: 20)])
                try tx.addCounters(["skipped": 1])
                try tx.addDeadLetters([DeadLetter(topic: "orders", partition: 0, offset: 15, key: nil, value: nil, error: "x")])
                throw Boom()
            }
        }

        #expect(try store.rows(ofView: "order_summary").rows == [Orders.order("o1").row])
        #expect(try store.checkpoints(pipeline: Orders.name) == committed)
        #expect(try store.counters(pipeline: Orders.name).isEmpty)
        #expect(try store.deadLetters().isEmpty)
        // The store still works after the rollback.
        try store.write(pipeline: Orders.name) { tx in try tx.apply([Orders.order("o3")]) }
        #expect(try store.rows(ofView: "order_summary").rows.count == 2)
    }

    @Test("a failing row rolls the batch back with a store error", arguments: StoreKind.allCases)
    func invalidChangeRollsBack(kind: StoreKind) throws {
        let store = try kind.open().store
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        let error = try #require(throws: ViewStoreError.self) {
            try store.write(pipeline: Orders.name) { tx in
                try tx.apply([Orders.order("o1"), ViewChange(view: 0, key: [.null], row: [.null, .null, .null, .null, .null, .null])])
            }
        }
        if kind == .postgres {
            #expect(error.code == .postgres && error.message.contains("23502"))
        } else {
            #expect(error.sqliteCode == "SQLITE_CONSTRAINT")
        }
        #expect(try store.rows(ofView: "order_summary").rows.isEmpty)

        let wrongWidth = try #require(throws: ViewStoreError.self) {
            try store.write(pipeline: Orders.name) { tx in try tx.apply([ViewChange(view: 0, key: [.text("a")], row: [.text("a")])]) }
        }
        #expect(wrongWidth.code == .invalidDefinition)
        let wrongView = try #require(throws: ViewStoreError.self) {
            try store.write(pipeline: Orders.name) { tx in try tx.apply([ViewChange(view: 7, key: [.text("a")], row: nil)]) }
        }
        #expect(wrongView.code == .invalidDefinition)
    }

    @Test("writing an unprepared pipeline is refused", arguments: StoreKind.allCases)
    func unpreparedWrite(kind: StoreKind) throws {
        let store = try kind.open().store
        let error = try #require(throws: ViewStoreError.self) {
            try store.write(pipeline: "nothing") { _ in }
        }
        #expect(error.code == .notPrepared)
    }

    @Test("checkpoints are per pipeline, topic and partition", arguments: StoreKind.allCases)
    func checkpoints(kind: StoreKind) throws {
        let store = try kind.open().store
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        try store.write(pipeline: Orders.name) { tx in
            try tx.setCheckpoints([
                Checkpoint(topic: "orders", partition: 1, nextOffset: 5),
                Checkpoint(topic: "orders", partition: 0, nextOffset: 7),
            ])
        }
        try store.write(pipeline: Orders.name) { tx in
            try tx.setCheckpoints([Checkpoint(topic: "orders", partition: 1, nextOffset: 9)])
        }
        #expect(try store.checkpoints(pipeline: Orders.name) == [
            Checkpoint(topic: "orders", partition: 0, nextOffset: 7),
            Checkpoint(topic: "orders", partition: 1, nextOffset: 9),
        ])
        #expect(try store.checkpoints(pipeline: "other").isEmpty)
    }

    @Test("a pipeline built by another definition is refused with a rebuild hint", arguments: StoreKind.allCases)
    func identityRefusal(kind: StoreKind) throws {
        let store = try kind.open().store
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views, time: "2026-01-01T00:00:00Z")
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)

        let changed = try #require(throws: ViewStoreError.self) {
            try store.prepare(pipeline: Orders.name, version: 2, hash: Orders.otherHash, views: Orders.views)
        }
        #expect(changed.code == .definitionChanged)
        // The store cannot know the file, brokers and database a command needs: the CLI prints that command.
        #expect(changed.message.contains("rebuild them with this definition") && !changed.message.contains("projector rebuild"))
        #expect(changed.message.contains(Orders.hash) && changed.message.contains(Orders.otherHash))

        let owned = try #require(throws: ViewStoreError.self) {
            try store.prepare(pipeline: "intruder", version: 1, hash: "h", views: [Orders.customers])
        }
        #expect(owned.code == .viewOwned)

        let status = try #require(try store.pipelines().first)
        #expect(status.name == Orders.name && status.version == 1 && status.hash == Orders.hash)
        #expect(status.createdAt == "2026-01-01T00:00:00Z" && status.rebuiltAt == nil)
        #expect(status.views == ["customer_stats", "order_summary"])
        #expect(try store.pipelines().count == 1)
    }

    @Test("a foreign table with a view's name is not adopted", arguments: StoreKind.allCases)
    func foreignTable(kind: StoreKind) throws {
        let opened = try kind.open()
        let store = opened.store
        try opened.execute(#"CREATE TABLE "customer_stats" ("x" INTEGER)"#)
        let error = try #require(throws: ViewStoreError.self) {
            try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        }
        #expect(error.code == .viewOwned)
        #expect(try store.pipelines().isEmpty)
    }

    @Test("invalid and reserved names are refused", arguments: ["Robert\"); DROP TABLE x; --", "1abc", "", "_projector_checkpoints", "_projector_shadow_x"])
    func invalidNames(name: String) throws {
        let store = try SQLiteViewStore.inMemory()
        var view = Orders.customers
        view.name = name
        let error = try #require(throws: ViewStoreError.self) {
            try store.prepare(pipeline: "p", version: 1, hash: "h", views: [view])
        }
        #expect(error.code == .invalidName)
    }

    @Test("SQL keywords as view and column names stay quoted", arguments: StoreKind.allCases)
    func keywordNames(kind: StoreKind) throws {
        let store = try kind.open().store
        let view = ViewDefinition(
            name: "select",
            columns: [
                ColumnDefinition(name: "from", type: .text, defaultValue: .null),
                ColumnDefinition(name: "order", type: .integer, defaultValue: .null),
                ColumnDefinition(name: "group", type: .json, defaultValue: .null),
                ColumnDefinition(name: "where", type: .boolean, defaultValue: .null),
            ],
            keyColumns: [0, 1])
        try store.prepare(pipeline: "table", version: 1, hash: "h", views: [view, Orders.customers])
        try store.write(pipeline: "table") { tx in
            try tx.apply([
                ViewChange(view: 0, key: [.text("a"), .integer(1)], row: [.text("a"), .integer(1), .text("{\"x\":1}"), .integer(1)]),
                ViewChange(view: 0, key: [.text("a"), .integer(0)], row: [.text("a"), .integer(0), .null, .integer(0)]),
            ])
            #expect(try tx.row(in: 0, key: [.text("a"), .integer(1)])?[2] == .text("{\"x\":1}"))
            try tx.apply([ViewChange(view: 0, key: [.text("a"), .integer(0)], row: nil)])
        }
        #expect(try store.rows(ofView: "select").rows == [[.text("a"), .integer(1), .text("{\"x\":1}"), .integer(1)]])
    }

    @Test("a key-only view upserts idempotently", arguments: StoreKind.allCases)
    func keyOnlyView(kind: StoreKind) throws {
        let store = try kind.open().store
        let seen = ViewDefinition(
            name: "_projector_seen_orders",
            columns: [ColumnDefinition(name: "event_id", type: .text, defaultValue: .null)], keyColumns: [0])
        try store.prepare(pipeline: "orders", version: 1, hash: "h", views: [seen])
        for _ in 0..<2 {
            try store.write(pipeline: "orders") { tx in
                try tx.apply([ViewChange(view: 0, key: [.text("e1")], row: [.text("e1")])])
            }
        }
        #expect(try store.rows(ofView: "_projector_seen_orders").rows == [[.text("e1")]])
    }

    @Test("integer keys, empty text and extreme values round trip exactly", arguments: StoreKind.allCases)
    func valueFidelity(kind: StoreKind) throws {
        let store = try kind.open().store
        let view = ViewDefinition(
            name: "numbers",
            columns: [
                ColumnDefinition(name: "id", type: .integer, defaultValue: .null),
                ColumnDefinition(name: "text", type: .text, defaultValue: .null),
                ColumnDefinition(name: "real", type: .real, defaultValue: .null),
                ColumnDefinition(name: "int", type: .integer, defaultValue: .null),
            ],
            keyColumns: [0])
        try store.prepare(pipeline: "numbers", version: 1, hash: "h", views: [view])
        // PostgreSQL text cannot hold NUL: there such a row fails its batch whole, with the server's reason.
        let nul = kind == .postgres ? "" : "\u{0}"
        if kind == .postgres {
            let error = try #require(throws: ViewStoreError.self) {
                try store.write(pipeline: "numbers") { tx in
                    try tx.apply([ViewChange(view: 0, key: [.integer(9)], row: [.integer(9), .text("a\u{0}b"), .null, .null])])
                }
            }
            #expect(error.message.contains("22021"))
        }
        let rows: [[ViewValue]] = [
            [.integer(-1), .text(""), .real(-0.5), .integer(.min)],
            [.integer(2), .text("héllo \(nul)wörld 🎉"), .real(1e300), .integer(.max)],
            [.integer(3), .null, .null, .null],
        ]
        try store.write(pipeline: "numbers") { tx in
            try tx.apply(rows.map { ViewChange(view: 0, key: [$0[0]], row: $0) })
            for row in rows {
                #expect(try tx.row(in: 0, key: [row[0]]) == row)
            }
        }
        #expect(try store.rows(ofView: "numbers").rows == rows)
    }

    @Test("dead letters round trip and are deleted by id", arguments: StoreKind.allCases)
    func deadLetters(kind: StoreKind) throws {
        let store = try kind.open().store
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        let letters = [
            DeadLetter(topic: "orders", partition: 2, offset: 41, key: Array("k1".utf8), value: [0, 255, 7], error: "missing $.data.orderId", time: "2026-01-01T00:00:00Z"),
            DeadLetter(topic: "orders", partition: 0, offset: 3, key: nil, value: [], error: "not JSON", time: "2026-01-01T00:00:01Z"),
        ]
        try store.write(pipeline: Orders.name) { tx in try tx.addDeadLetters(letters) }

        let stored = try store.deadLetters()
        #expect(stored.map(\.letter) == letters)
        #expect(stored.allSatisfy { $0.pipeline == Orders.name })
        #expect(try store.deadLetters(pipeline: "other", limit: nil).isEmpty)
        #expect(try store.deadLetters(pipeline: Orders.name, limit: 1).count == 1)

        #expect(try store.skipDeadLetters(pipeline: Orders.name, ids: [stored[0].id, 999]) == 1)
        #expect(try store.deadLetters().map(\.letter) == [letters[1]])
    }

    @Test("counters add deltas per pipeline", arguments: StoreKind.allCases)
    func counters(kind: StoreKind) throws {
        let store = try kind.open().store
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        try store.write(pipeline: Orders.name) { tx in try tx.addCounters(["skipped": 2, "dead_lettered": 1]) }
        try store.write(pipeline: Orders.name) { tx in try tx.addCounters(["skipped": 3]) }
        #expect(try store.counters(pipeline: Orders.name) == ["skipped": 5, "dead_lettered": 1])
        #expect(try store.counters(pipeline: "other").isEmpty)
    }

    @Test("a reopened file holds the same rows, checkpoints and identity")
    func reopen() throws {
        let temporary = try TemporaryDatabase()
        do {
            let store = try SQLiteViewStore(path: temporary.path)
            try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
            try store.write(pipeline: Orders.name) { tx in
                try tx.apply([Orders.order("o1"), Orders.customer("c1", orders: 1, revenue: 10)])
                try tx.setCheckpoints([Checkpoint(topic: "orders", partition: 0, nextOffset: 1)])
            }
        }
        let store = try SQLiteViewStore(path: temporary.path)
        #expect(throws: ViewStoreError.self) {
            try store.prepare(pipeline: Orders.name, version: 2, hash: Orders.otherHash, views: Orders.views)
        }
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        #expect(try store.rows(ofView: "order_summary").rows == [Orders.order("o1").row])
        #expect(try store.checkpoints(pipeline: Orders.name) == [Checkpoint(topic: "orders", partition: 0, nextOffset: 1)])

        let reader = try SQLiteViewStore(path: temporary.path, configuration: .init(isReadOnly: true))
        #expect(try reader.rows(ofView: "customer_stats").rows == [Orders.customer("c1", orders: 1, revenue: 10).row])
        #expect(try reader.pipelines().map(\.name) == [Orders.name])
    }

    @Test("a busy store fails after the busy timeout with a clear error")
    func busyTimeout() throws {
        let temporary = try TemporaryDatabase()
        let first = try SQLiteViewStore(path: temporary.path)
        let second = try SQLiteViewStore(path: temporary.path, configuration: .init(busyTimeout: .milliseconds(50)))
        try first.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        try second.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        let error = try #require(throws: ViewStoreError.self) {
            try first.write(pipeline: Orders.name) { tx in
                try tx.apply([Orders.order("o1")])
                try second.write(pipeline: Orders.name) { tx in try tx.apply([Orders.order("o2")]) }
            }
        }
        #expect(error.code == .busy)
        #expect(error.sqliteCode == "SQLITE_BUSY")
    }
}

@Suite("Metadata times")
struct WallClockTests {
    @Test("the wall clock is ISO-8601 UTC with milliseconds")
    func format() throws {
        let time = wallClockTime()
        let pattern = try Regex(#"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#)
        #expect(time.wholeMatch(of: pattern) != nil, "\(time)")
        #expect(DeadLetter(topic: "t", partition: 0, offset: 0, key: nil, value: nil, error: "e").time.wholeMatch(of: pattern) != nil)
    }
}

@Suite("Crash consistency")
struct CrashTests {
    @Test("the files copied in the middle of a batch reopen at the last committed batch")
    func crashMidBatch() throws {
        let temporary = try TemporaryDatabase()
        // A tiny page cache makes SQLite spill the open transaction's pages into the WAL before
        // COMMIT, so the copy holds uncommitted frames that recovery must ignore.
        let store = try SQLiteViewStore(path: temporary.path, configuration: .init(cacheSizeKiB: 64))
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        try store.write(pipeline: Orders.name) { tx in
            try tx.apply((0..<500).map { Orders.order("o\($0)") })
            try tx.setCheckpoints([Checkpoint(topic: "orders", partition: 0, nextOffset: 500)])
        }
        let walSize = { (path: String) in try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int ?? 0 }
        let committedWAL = try walSize(temporary.path)
        let crashed = try TemporaryDatabase()
        try store.write(pipeline: Orders.name) { tx in
            try tx.apply((0..<2000).map { Orders.order("o\($0)", status: "shipped") })
            try tx.setCheckpoints([Checkpoint(topic: "orders", partition: 0, nextOffset: 2500)])
            for suffix in ["", "-wal"] {
                try FileManager.default.copyItem(atPath: temporary.path + suffix, toPath: crashed.path + suffix)
            }
        }
        #expect(try walSize(crashed.path) > committedWAL, "the open transaction spilled into the WAL")

        let recovered = try SQLiteViewStore(path: crashed.path)
        #expect(try recovered.checkpoints(pipeline: Orders.name) == [Checkpoint(topic: "orders", partition: 0, nextOffset: 500)])
        let rows = try recovered.rows(ofView: "order_summary").rows
        #expect(rows.count == 500)
        #expect(rows.allSatisfy { $0[2] == .text("created") })
    }
}
