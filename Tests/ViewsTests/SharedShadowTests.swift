import Foundation
import ProjectorTesting
import Testing
@testable import Views
import ProjectorModel

/// A rebuild's shadow written on a second connection (`SharedShadowWrites`): the first keeps the
/// keys it knows absent across that connection's commits, and learns the keys it wrote.
@Suite struct SharedShadowTests {
    /// A store with the shadow prepared and one read transaction run, so its tables' statements
    /// (and known keys of the empty shadow tables) exist.
    private func shadowStore(_ path: String) throws -> SQLiteViewStore {
        let store = try SQLiteViewStore(path: path)
        try store.prepareShadow(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        try store.readShadow(pipeline: Orders.name) { tx throws in #expect(try tx.row(in: 1, key: [.text("c0")]) == nil) }
        return store
    }

    @Test("keys the shadow writer committed and adopted read as stored; the known keys outlive its commits")
    func adoptedKeysAreRead() throws {
        let temporary = try TemporaryDatabase()
        let store = try shadowStore(temporary.path)
        let writer = try #require(try store.openShadowWriter(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views))
        let change = Orders.customer("c1", orders: 3, revenue: 30)
        try writer.write(pipeline: Orders.name, target: .shadow) { tx in try tx.apply([change]) }
        try store.adoptShadowWrites(pipeline: Orders.name, [change])
        try store.readShadow(pipeline: Orders.name) { tx throws in
            #expect(try tx.row(in: 1, key: [.text("c1")]) == change.row)
            #expect(tx.knownRow(in: 1, key: [.text("c2")]) == .some(nil), "still known absent after the writer's commit")
        }
        try store.closeShadowWriter(pipeline: Orders.name)
    }

    @Test("once the shadow writer is closed, another connection's commit drops the known keys again")
    func closedWriterRestoresTheCheck() throws {
        let temporary = try TemporaryDatabase()
        let store = try shadowStore(temporary.path)
        _ = try store.openShadowWriter(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        try store.closeShadowWriter(pipeline: Orders.name)
        let other = try SQLiteViewStore(path: temporary.path)
        try other.prepareShadow(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        let change = Orders.customer("c2", orders: 5, revenue: 50)
        try other.write(pipeline: Orders.name, target: .shadow) { tx in try tx.apply([change]) }
        try store.readShadow(pipeline: Orders.name) { tx throws in
            #expect(try tx.row(in: 1, key: [.text("c2")]) == change.row)
        }
    }

    @Test("an in-memory store has no second connection to give")
    func inMemoryHasNoWriter() throws {
        let store = try SQLiteViewStore.inMemory()
        try store.prepareShadow(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        #expect(!store.canOpenShadowWriter)
        #expect(try store.openShadowWriter(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views) == nil)
    }
}
