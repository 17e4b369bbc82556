import Foundation
import Pipelines
import ProjectorTesting
import Testing
@testable import Views
import ProjectorModel

/// A table that started empty answers reads of keys it never wrote without a query, and forgets
/// that knowledge as soon as another connection commits.
@Suite struct KnownKeysTests {
    @Test("a fresh table knows its keys; another connection's commit makes it query again")
    func anotherWriterIsSeen() throws {
        let temporary = try TemporaryDatabase()
        let store = try Orders.preparedStore(temporary.path)
        try store.write(pipeline: Orders.name) { tx throws in
            #expect(try tx.row(in: 1, key: [.text("c1")]) == nil)
            try tx.apply([Orders.customer("c1", orders: 1, revenue: 10)])
        }
        let table = try #require(store.cachedTables(pipeline: Orders.name).last)
        #expect(table.knownKeys?.mightContain([.text("c1")]) == true)
        #expect(table.knownKeys?.mightContain([.text("c2")]) == false)

        // Another connection (another worker of the group) writes c2 and changes c1.
        let other = try Orders.preparedStore(temporary.path)
        try other.write(pipeline: Orders.name) { tx in
            try tx.apply([Orders.customer("c2", orders: 5, revenue: 50), Orders.customer("c1", orders: 2, revenue: 20)])
        }

        try store.write(pipeline: Orders.name) { tx throws in
            #expect(try tx.row(in: 1, key: [.text("c2")]) == Orders.customer("c2", orders: 5, revenue: 50).row)
            #expect(try tx.row(in: 1, key: [.text("c1")]) == Orders.customer("c1", orders: 2, revenue: 20).row)
        }
        #expect(table.knownKeys == nil, "the keys are forgotten after the other connection's commit")
    }

    @Test("a table that already has rows queries every read")
    func existingRowsAreNotKnown() throws {
        let temporary = try TemporaryDatabase()
        do {
            let store = try Orders.preparedStore(temporary.path)
            try store.write(pipeline: Orders.name) { tx in try tx.apply([Orders.order("o1")]) }
        }
        let store = try Orders.preparedStore(temporary.path)
        try store.write(pipeline: Orders.name) { tx throws in
            #expect(try tx.row(in: 0, key: [.text("o1")]) == Orders.order("o1").row)
        }
        let tables = store.cachedTables(pipeline: Orders.name)
        #expect(tables.first?.knownKeys == nil)
        #expect(tables.last?.knownKeys != nil, "customer_stats is still empty")
    }

    @Test("a filter far too small for its keys still never answers absent for a written key")
    func fullFilterKeepsEveryKey() throws {
        // 4 KiB of cache: a 1 KiB filter (8,192 bits) for 10,000 keys, two bits each.
        let (temporary, store, known) = try ordersWritten(10_000, cacheSizeKiB: 4)
        defer { withExtendedLifetime(temporary) {} }
        let ids = (0 ..< 10_000).map { "o\($0)" }
        #expect(ids.allSatisfy { known.mightContain([.text($0)]) })
        try store.write(pipeline: Orders.name) { tx throws in
            for id in ids.shuffled().prefix(500) { #expect(try tx.row(in: 0, key: [.text(id)]) == Orders.order(id).row) }
        }
        // Full, it answers "might contain" for most keys never written: they cost a query, not a wrong row.
        let unwritten = (0 ..< 1_000).filter { known.mightContain([.text("x\($0)")]) }.count
        #expect(unwritten > 600)
        try store.write(pipeline: Orders.name) { tx throws in #expect(try tx.row(in: 0, key: [.text("x1")]) == nil) }
    }

    @Test("while the keys fit the filter's memory they are kept exactly: no unwritten key reads as written")
    func fewKeysAreExact() throws {
        // 64 KiB of cache: a 16 KiB filter, which holds 1,024 hashes exactly before it turns to bits.
        let (temporary, _, known) = try ordersWritten(1_000, cacheSizeKiB: 64)
        defer { withExtendedLifetime(temporary) {} }
        let ids = (0 ..< 1_000).map { "o\($0)" }
        #expect(ids.allSatisfy { known.mightContain([.text($0)]) })
        #expect((0 ..< 10_000).allSatisfy { !known.mightContain([.text("x\($0)")]) })
    }

    /// A store with `count` orders (`o0`, `o1`, …) written to its empty orders table, and that
    /// table's known keys; the temporary database must outlive the store's use.
    private func ordersWritten(_ count: Int, cacheSizeKiB: Int) throws -> (TemporaryDatabase, SQLiteViewStore, KnownKeys) {
        let temporary = try TemporaryDatabase()
        let store = try Orders.preparedStore(temporary.path, configuration: .init(cacheSizeKiB: cacheSizeKiB))
        try store.write(pipeline: Orders.name) { tx in try tx.apply((0 ..< count).map { Orders.order("o\($0)") }) }
        let known = try #require(store.cachedTables(pipeline: Orders.name).first?.knownKeys)
        return (temporary, store, known)
    }

    @Test("multi-column keys hash each value apart")
    func valuesAreDelimited() {
        #expect(KnownKeys.hash([.text("ab"), .text("c")]) != KnownKeys.hash([.text("a"), .text("bc")]))
        #expect(KnownKeys.hash([.integer(1)]) != KnownKeys.hash([.real(1)]))
        #expect(KnownKeys.hash([.real(0)]) == KnownKeys.hash([.real(-0.0)]))
    }
}
