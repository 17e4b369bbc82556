import Foundation
import Testing
@testable import Views
import ProjectorModel

/// A swap makes a rebuild publish nothing: the outbox afterwards holds exactly the live generation's
/// unsent records, whatever the rebuild emitted (`SQLiteViewStore+Outbox.swift`).
@Suite("outbox across a swap")
struct OutboxSwapTests {
    static let pipeline = "reactor"
    static let view = ViewDefinition(
        name: "reactor_state", columns: [ColumnDefinition(name: "id", type: .text, defaultValue: .null)], keyColumns: [0])
    static let outbox = Outbox.definition(pipeline: pipeline)
    /// Timers ride along (`_projector_timers_reactor`, its queue): rebuilt like views, swapped in.
    static let timers = [Timers.definition(pipeline: pipeline), Timers.queueDefinition(pipeline: pipeline)]

    /// The two rows of timer (`Timeout`, `key`) due at `due` on orders/`partition`.
    static func timer(_ key: String, due: Int64, partition: Int64 = 0) -> [ViewChange] {
        let row: [ViewValue] = [.text("Timeout"), .text(key), .integer(due), .text("orders"), .integer(partition), .text(#"{"n":1}"#)]
        let queued = Timers.queueRow(from: row)
        return [ViewChange(view: 2, key: Array(row.prefix(2)), row: row), ViewChange(view: 3, key: Array(queued.prefix(5)), row: queued)]
    }

    /// An outbox row for the event at `orders`/0/`offset`, emit 0, with `value`.
    static func record(_ offset: Int64, _ value: String, timestamp: Int64 = 1_000) -> ViewChange {
        let key: [ViewValue] = [.text("orders"), .integer(0), .integer(offset), .integer(0)]
        return ViewChange(view: 1, key: key, row: key + [
            .text(Outbox.id(pipeline: pipeline, topic: "orders", partition: 0, offset: offset, emit: 0)), .text("commands"),
            .text("k"), .text(value), .null, .integer(timestamp),
        ])
    }

    static func values(_ store: any ViewStore) throws -> [ViewValue] {
        try store.rows(ofView: outbox.name).rows.map { $0[Outbox.Column.value] }
    }

    @Test("the rebuilt records are dropped and the live unsent ones kept, after a definition change too", arguments: StoreKind.allCases)
    func keepsTheLiveUnsentRecords(kind: StoreKind) throws {
        let opened = try kind.open()
        let store = opened.store
        try store.prepare(pipeline: Self.pipeline, version: 1, hash: "h1", views: [Self.view, Self.outbox])
        // Records 1 to 4 were produced (the relay deleted them); 5 is committed and unsent.
        try store.write(pipeline: Self.pipeline) { tx in try tx.apply([Self.record(5, #"{"v":1}"#, timestamp: 500)]) }
        let before = try #require(try store.pipelines().first)
        #expect(before.hasOutbox && before.outboxRecords == 1 && before.oldestUnsentTimestamp == 500)

        // Version 2 emits other values; its rebuild writes every record again.
        // It also schedules timers: the due ones of a partition are one key range of the queue.
        try store.prepareShadow(pipeline: Self.pipeline, version: 2, hash: "h2", views: [Self.view, Self.outbox] + Self.timers)
        try store.write(pipeline: Self.pipeline, target: .shadow) { tx in
            try tx.apply((1 ... 5).map { Self.record($0, #"{"v":2}"#) })
            try tx.apply(Self.timer("b", due: 20) + Self.timer("a", due: 20) + Self.timer("c", due: 10) + Self.timer("late", due: 31)
                + Self.timer("other", due: 5, partition: 1))
            let due = try tx.rows(in: 3, keyPrefix: [.text("orders"), .integer(0)], upTo: .integer(30))
            #expect(due.map { $0[Timers.QueueColumn.key] } == [.text("c"), .text("a"), .text("b")], "by due, then key; bounded; one partition")
            #expect(try tx.rows(in: 3, keyPrefix: [.text("orders"), .integer(0)], upTo: .integer(9)).isEmpty)
            try tx.apply(Self.timer("c", due: 10).map { ViewChange(view: $0.view, key: $0.key, row: nil) })
        }
        try store.swap(pipeline: Self.pipeline, newVersion: 2, newHash: "h2")
        #expect(try Self.values(store) == [.text(#"{"v":1}"#)], "the unsent record as version 1 wrote it; nothing rebuilt")
        #expect(try store.pipelines().first?.outboxRecords == 1)
        #expect(try store.pipelines().first?.pendingTimers == 4, "the rebuilt timers are swapped in")
        #expect(try store.rows(ofView: Timers.tableName(pipeline: Self.pipeline)).rows.map { $0[Timers.Column.key] }
            == ["a", "b", "late", "other"].map { .text($0) })

        // Version 3 emits nothing: its tables have no outbox, and version 2's unsent record goes with its tables.
        try store.prepareShadow(pipeline: Self.pipeline, version: 3, hash: "h3", views: [Self.view])
        try store.swap(pipeline: Self.pipeline, newVersion: 3, newHash: "h3")
        #expect(throws: ViewStoreError.self) { try store.rows(ofView: Self.outbox.name) }
        #expect(try store.pipelines().first?.hasOutbox == false)
        #expect(try store.pipelines().first?.pendingTimers == nil, "no timers table, no count")

        // Version 4 emits again: a rebuild from a generation without outbox publishes nothing either.
        try store.prepareShadow(pipeline: Self.pipeline, version: 4, hash: "h4", views: [Self.view, Self.outbox])
        try store.write(pipeline: Self.pipeline, target: .shadow) { tx in try tx.apply((1 ... 3).map { Self.record($0, #"{"v":4}"#) }) }
        try store.swap(pipeline: Self.pipeline, newVersion: 4, newHash: "h4")
        #expect(try Self.values(store).isEmpty)
        let after = try #require(try store.pipelines().first)
        #expect(after.hasOutbox && after.outboxRecords == 0 && after.oldestUnsentTimestamp == nil)
    }
}
