import Foundation
import Pipelines
import ProjectorTesting
import Testing
@testable import Views
import ProjectorModel

/// A live table answers reads of rows its connection committed from memory, and only ever what
/// the table holds: not what a rolled-back batch wrote, nor what another connection replaced.
@Suite struct RowCacheTests {
    @Test("committed rows are answered from memory; a rolled-back batch's rows are not")
    func onlyCommittedRowsAreCached() throws {
        let temporary = try TemporaryDatabase()
        let store = try Orders.preparedStore(temporary.path)
        try store.write(pipeline: Orders.name) { tx in
            try tx.apply([Orders.customer("c1", orders: 1, revenue: 10), Orders.order("o1"), Orders.order("o2")])
        }
        try store.write(pipeline: Orders.name) { tx in try tx.apply([Orders.deleteOrder("o2")]) }
        let orders = try #require(store.cachedTables(pipeline: Orders.name).first)
        let customers = try #require(store.cachedTables(pipeline: Orders.name).last)
        #expect(customers.rows.lookup([.text("c1")]) == .some(Orders.customer("c1", orders: 1, revenue: 10).row))
        #expect(orders.rows.lookup([.text("o2")]) == .some(nil), "a deleted row is cached as absent")

        #expect(throws: Boom.self) {
            try store.write(pipeline: Orders.name) { tx throws in
                try tx.apply([Orders.customer("c1", orders: 2, revenue: 20), Orders.order("o3")])
                throw Boom()
            }
        }
        try store.write(pipeline: Orders.name) { tx throws in
            #expect(try tx.row(in: 1, key: [.text("c1")]) == Orders.customer("c1", orders: 1, revenue: 10).row)
            #expect(try tx.row(in: 0, key: [.text("o3")]) == nil)
            #expect(try tx.row(in: 0, key: [.text("o2")]) == nil)
        }
        #expect(orders.rows.lookup([.text("o3")]) == .some(nil), "read as absent after the rollback")
    }

    @Test("a row another connection changed is read from the table again")
    func anotherWriterIsSeen() throws {
        let temporary = try TemporaryDatabase()
        let store = try Orders.preparedStore(temporary.path)
        try store.write(pipeline: Orders.name) { tx in try tx.apply([Orders.order("o1", status: "created")]) }
        try store.write(pipeline: Orders.name) { tx throws in
            #expect(try tx.row(in: 0, key: [.text("o1")]) == Orders.order("o1", status: "created").row)
        }

        let other = try Orders.preparedStore(temporary.path)
        try other.write(pipeline: Orders.name) { tx in try tx.apply([Orders.order("o1", status: "shipped")]) }

        try store.write(pipeline: Orders.name) { tx throws in
            #expect(try tx.row(in: 0, key: [.text("o1")]) == Orders.order("o1", status: "shipped").row)
        }
    }

    @Test("rows past the cache's memory are read from the table, and every read is the row last written")
    func boundedCacheStaysRight() throws {
        // 4 KiB of SQLite cache: 1 KiB of rows for the pipeline, a handful of order rows.
        let temporary = try TemporaryDatabase()
        let store = try Orders.preparedStore(temporary.path, configuration: .init(cacheSizeKiB: 4))
        for batch in 0 ..< 10 {
            try store.write(pipeline: Orders.name) { tx in
                try tx.apply((0 ..< 100).map { Orders.order("o\($0)", items: Int64(batch)) })
            }
        }
        try store.write(pipeline: Orders.name) { tx throws in
            for id in 0 ..< 100 { #expect(try tx.row(in: 0, key: [.text("o\(id)")]) == Orders.order("o\(id)", items: 9).row) }
        }
        let orders = try #require(store.cachedTables(pipeline: Orders.name).first)
        #expect(orders.rows.lookup([.text("o0")]) == nil, "the rows used longest ago were dropped")
        #expect((0 ..< 100).contains { orders.rows.lookup([.text("o\($0)")]) != nil }, "the last ones are kept")
    }
}
