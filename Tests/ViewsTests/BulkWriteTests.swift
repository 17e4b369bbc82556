import Foundation
import Pipelines
import ProjectorTesting
import Testing
@testable import Views
import ProjectorModel

/// The SQLite store writes runs of changes many rows a statement; the tables must end exactly as
/// one statement a row leaves them, under both upsert styles, and a failing row still stores
/// nothing of its batch.
@Suite struct BulkWriteTests {
    /// A view keyed by two columns: its deletes go one key a statement.
    static let lines = ViewDefinition(
        name: "order_lines",
        columns: [
            ColumnDefinition(name: "order_id", type: .text, defaultValue: .null),
            ColumnDefinition(name: "line", type: .integer, defaultValue: .integer(0)),
            ColumnDefinition(name: "sku", type: .text, defaultValue: .null),
        ],
        keyColumns: [0, 1])
    static let views = Orders.views + [lines]

    static func line(_ order: Int, _ line: Int64, sku: String) -> ViewChange {
        ViewChange(view: 2, key: [.text("o\(order)"), .integer(line)], row: [.text("o\(order)"), .integer(line), .text(sku)])
    }

    /// Batches with runs longer and shorter than a statement's rows, a key upserted twice in one
    /// run, deletes of present and missing keys, and interleaved tables.
    static let batches: [[ViewChange]] = [
        (0..<100).map { Orders.order("o\($0)", total: Double($0)) }
            + (0..<70).map { line($0 % 7, Int64($0), sku: "s\($0)") },
        (0..<10).map { Orders.order("o\($0 * 2)", status: "shipped") }
            + [Orders.order("o3", status: "first"), Orders.order("o3", status: "second")]
            + (10..<40).map { Orders.order("o\($0 * 2)", status: "shipped") }
            + (0..<45).map { Orders.deleteOrder("o\($0 * 3 + 1)") } + [Orders.deleteOrder("missing")]
            + (0..<34).map { Orders.customer("c\($0)", orders: Int64($0), revenue: 1.5) }
            + [Orders.order("o1", status: "back")]
            + (0..<40).map { ViewChange(view: 2, key: [.text("o\($0 % 7)"), .integer(Int64($0))], row: nil) },
        (0..<33).map { Orders.customer("c\($0)", orders: 100, revenue: 2.5) } + [line(1, 1, sku: "again")],
    ]

    /// The rows of each view after applying the batches one change at a time.
    static func expected() -> [Set<[ViewValue]>] {
        var tables: [[[ViewValue]: [ViewValue]]] = Array(repeating: [:], count: views.count)
        for change in batches.joined() { tables[change.view][change.key] = change.row }
        return tables.map { Set($0.values) }
    }

    @Test("multi-row statements leave the tables as one row a statement does", arguments: [
        SQLiteViewStore.UpsertStyle.onConflict, .replace,
    ])
    func sameRows(style: SQLiteViewStore.UpsertStyle) throws {
        var configuration = SQLiteViewStore.Configuration()
        configuration.upsertStyle = style
        let opened = try StoreKind.sqliteFile.open(configuration: configuration)
        let store = opened.store
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Self.views)
        for batch in Self.batches {
            try store.write(pipeline: Orders.name) { tx in try tx.apply(batch) }
        }
        let expected = Self.expected()
        for (index, view) in Self.views.enumerated() {
            #expect(Set(try store.rows(ofView: view.name).rows) == expected[index], "view \(view.name)")
        }
        #expect(expected[0].contains(Orders.order("o3", status: "second").row!))
        #expect(expected[0].contains(Orders.order("o1", status: "back").row!))
        // Read back through a transaction too: the known keys saw every written row.
        try store.write(pipeline: Orders.name) { tx throws in
            #expect(try tx.row(in: 1, key: [.text("c33")]) == Orders.customer("c33", orders: 33, revenue: 1.5).row)
            #expect(try tx.row(in: 0, key: [.text("o4")]) == nil)
        }
    }

    @Test("a failing row inside a multi-row statement stores nothing of its batch")
    func failingRowRollsBack() throws {
        let opened = try StoreKind.sqliteFile.open()
        let store = opened.store
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Self.views)
        try store.write(pipeline: Orders.name) { tx in try tx.apply([Orders.order("kept")]) }
        var batch = (0..<64).map { Orders.order("o\($0)") }
        batch[40] = ViewChange(view: 0, key: [.null], row: [.null, .null, .null, .null, .null, .null])
        let error = try #require(throws: ViewStoreError.self) {
            try store.write(pipeline: Orders.name) { tx in try tx.apply(batch) }
        }
        #expect(error.sqliteCode == "SQLITE_CONSTRAINT")
        #expect(error.message.contains("upserting 32 rows of"))
        #expect(try store.rows(ofView: "order_summary").rows == [Orders.order("kept").row])

        batch[40] = ViewChange(view: 0, key: [.text("o40")], row: [.text("o40")])
        let wrongWidth = try #require(throws: ViewStoreError.self) {
            try store.write(pipeline: Orders.name) { tx in try tx.apply(batch) }
        }
        #expect(wrongWidth.code == .invalidDefinition)
        #expect(try store.rows(ofView: "order_summary").rows == [Orders.order("kept").row])
    }
}
