import Foundation
import GRDB
import Pipelines
import ProjectorTesting
import Synchronization
import Testing
@testable import Views
import ProjectorModel

@Suite("Shadow tables and swap")
struct ShadowTests {
    @Test("a shadow generation is written apart and swapped in whole", arguments: StoreKind.allCases)
    func shadowWriteAndSwap(kind: StoreKind) throws {
        let store = try kind.open().store
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        try store.write(pipeline: Orders.name) { tx in
            try tx.apply([Orders.order("old"), Orders.customer("c1", orders: 1, revenue: 1)])
            try tx.setCheckpoints([Checkpoint(topic: "orders", partition: 0, nextOffset: 100)])
            try tx.addCounters(["skipped": 7])
            try tx.addDeadLetters([DeadLetter(topic: "orders", partition: 0, offset: 5, key: nil, value: [1], error: "bad")])
        }

        // The new definition drops customer_stats and keeps order_summary.
        #expect(try store.prepareShadow(pipeline: Orders.name, version: 2, hash: Orders.otherHash, views: [Orders.summary]) == .started)
        try store.write(pipeline: Orders.name, target: .shadow) { tx in
            #expect(try tx.row(in: 0, key: [.text("old")]) == nil)
            try tx.apply([Orders.order("new1"), Orders.order("new2")])
            try tx.setCheckpoints([Checkpoint(topic: "orders", partition: 0, nextOffset: 60)])
            try tx.addCounters(["skipped": 2])
            try tx.addDeadLetters([
                DeadLetter(topic: "orders", partition: 0, offset: 5, key: nil, value: [1], error: "bad"),
                DeadLetter(topic: "orders", partition: 0, offset: 6, key: nil, value: [2], error: "worse"),
            ])
        }
        // Live is untouched while the rebuild runs.
        #expect(try store.rows(ofView: "order_summary").rows == [Orders.order("old").row])
        #expect(try store.checkpoints(pipeline: Orders.name) == [Checkpoint(topic: "orders", partition: 0, nextOffset: 100)])
        #expect(try store.checkpoints(pipeline: Orders.name, target: .shadow) == [Checkpoint(topic: "orders", partition: 0, nextOffset: 60)])
        let rebuilding = try #require(try store.pipelines().first)
        #expect(rebuilding.shadow?.hash == Orders.otherHash)
        #expect(rebuilding.shadow?.checkpoints == [Checkpoint(topic: "orders", partition: 0, nextOffset: 60)])

        let wrong = try #require(throws: ViewStoreError.self) {
            try store.swap(pipeline: Orders.name, newVersion: 3, newHash: "sha256:cccc")
        }
        #expect(wrong.code == .definitionChanged)

        try store.swap(pipeline: Orders.name, newVersion: 2, newHash: Orders.otherHash, time: "2026-02-02T00:00:00Z")

        #expect(try store.rows(ofView: "order_summary").rows == [Orders.order("new1").row, Orders.order("new2").row])
        #expect(throws: ViewStoreError.self) { try store.rows(ofView: "customer_stats") }
        #expect(try store.checkpoints(pipeline: Orders.name) == [Checkpoint(topic: "orders", partition: 0, nextOffset: 60)])
        #expect(try store.checkpoints(pipeline: Orders.name, target: .shadow).isEmpty)
        #expect(try store.counters(pipeline: Orders.name) == ["skipped": 2])
        #expect(try store.deadLetters().map(\.letter.offset) == [5, 6])
        let status = try #require(try store.pipelines().first)
        #expect(status.version == 2 && status.hash == Orders.otherHash && status.rebuiltAt == "2026-02-02T00:00:00Z")
        #expect(status.views == ["order_summary"] && status.shadow == nil)

        // The swapped-in tables are the live ones now: writes and identity follow.
        try store.write(pipeline: Orders.name) { tx in
            #expect(try tx.row(in: 0, key: [.text("new1")]) == Orders.order("new1").row)
            try tx.apply([Orders.deleteOrder("new1")])
        }
        #expect(try store.rows(ofView: "order_summary").rows.count == 1)
        #expect(throws: ViewStoreError.self) {
            try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        }
        #expect(throws: ViewStoreError.self) { try store.write(pipeline: Orders.name, target: .shadow) { _ in } }
        let noShadow = try #require(throws: ViewStoreError.self) {
            try store.swap(pipeline: Orders.name, newVersion: 2, newHash: Orders.otherHash)
        }
        #expect(noShadow.code == .noShadow)
    }

    @Test("a shadow of the same definition resumes; another definition or a drop starts over", arguments: StoreKind.allCases)
    func shadowResumeAndDrop(kind: StoreKind) throws {
        let store = try kind.open().store
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        #expect(try store.prepareShadow(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views) == .started)
        try store.write(pipeline: Orders.name, target: .shadow) { tx in
            try tx.apply([Orders.order("o1")])
            try tx.setCheckpoints([Checkpoint(topic: "orders", partition: 0, nextOffset: 1)])
        }
        #expect(try store.prepareShadow(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views) == .resumed)
        #expect(try store.checkpoints(pipeline: Orders.name, target: .shadow).count == 1)

        #expect(try store.prepareShadow(pipeline: Orders.name, version: 2, hash: Orders.otherHash, views: Orders.views) == .started)
        #expect(try store.checkpoints(pipeline: Orders.name, target: .shadow).isEmpty)
        #expect(try store.rows(ofView: "_projector_shadow_order_summary").rows.isEmpty)

        try store.dropShadow(pipeline: Orders.name)
        #expect(throws: ViewStoreError.self) { try store.rows(ofView: "_projector_shadow_order_summary") }
        #expect(try store.pipelines().first?.shadow == nil)
    }

    @Test("shadow checkpoints survive reopening the store")
    func shadowSurvivesCrash() throws {
        let temporary = try TemporaryDatabase()
        do {
            let store = try Orders.preparedStore(temporary.path)
            try store.prepareShadow(pipeline: Orders.name, version: 2, hash: Orders.otherHash, views: Orders.views)
            try store.write(pipeline: Orders.name, target: .shadow) { tx in
                try tx.apply([Orders.order("o1")])
                try tx.setCheckpoints([Checkpoint(topic: "orders", partition: 3, nextOffset: 42)])
            }
        }
        let store = try Orders.preparedStore(temporary.path)
        #expect(try store.prepareShadow(pipeline: Orders.name, version: 2, hash: Orders.otherHash, views: Orders.views) == .resumed)
        #expect(try store.checkpoints(pipeline: Orders.name, target: .shadow) == [Checkpoint(topic: "orders", partition: 3, nextOffset: 42)])
        try store.swap(pipeline: Orders.name, newVersion: 2, newHash: Orders.otherHash)
        #expect(try store.rows(ofView: "order_summary").rows == [Orders.order("o1").row])
    }

    @Test("a reader on another connection never sees a mix of generations during swaps")
    func readersNeverSeeAMix() throws {
        let temporary = try TemporaryDatabase()
        let store = try SQLiteViewStore(path: temporary.path)
        let rowCount = 50
        func generation(_ number: Int) -> [ViewChange] {
            (0..<rowCount).map { index in
                Orders.order(String(format: "o%03d", index), status: "g\(number)", items: Int64(number))
            }
        }
        try store.prepare(pipeline: Orders.name, version: 0, hash: "h0", views: [Orders.summary])
        try store.write(pipeline: Orders.name) { tx in try tx.apply(generation(0)) }

        let reader = try SQLiteViewStore(path: temporary.path, configuration: .init(isReadOnly: true))
        let stop = Atomic<Bool>(false)
        let reads = Atomic<Int>(0)
        let problems = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            while !stop.load(ordering: .acquiring) {
                do {
                    let rows = try reader.rows(ofView: "order_summary").rows
                    let generations = Set(rows.map { $0[4] })
                    if rows.count != rowCount || generations.count != 1 {
                        problems.withLock { $0.append("\(rows.count) rows of generations \(generations)") }
                    }
                    reads.add(1, ordering: .relaxed)
                } catch {
                    problems.withLock { $0.append("\(error)") }
                }
            }
        }
        thread.start()

        for number in 1...20 {
            try store.prepareShadow(pipeline: Orders.name, version: number, hash: "h\(number)", views: [Orders.summary])
            try store.write(pipeline: Orders.name, target: .shadow) { tx in try tx.apply(generation(number)) }
            try store.swap(pipeline: Orders.name, newVersion: number, newHash: "h\(number)")
        }
        // Let the reader see the last generation at least once before stopping it.
        let deadline = ContinuousClock.now + .seconds(10)
        let readsAtEnd = reads.load(ordering: .relaxed)
        while reads.load(ordering: .relaxed) < readsAtEnd + 2 && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.001)
        }
        stop.store(true, ordering: .releasing)
        done.wait()

        #expect(problems.withLock { $0 } == [])
        #expect(reads.load(ordering: .relaxed) > 0)
        #expect(try reader.rows(ofView: "order_summary").rows.allSatisfy { $0[4] == .integer(20) })
    }
}

@Suite("Swap and the user's own SQL")
struct SwapCompatibilityTests {
    @Test("an SQL view over a live view reads the swapped-in table", arguments: StoreKind.allCases)
    func userViewSurvivesSwap(kind: StoreKind) throws {
        let opened = try kind.open()
        let store = opened.store
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        try store.write(pipeline: Orders.name) { tx in try tx.apply([Orders.order("old")]) }
        try opened.execute(#"CREATE VIEW "open_orders" AS SELECT "order_id" FROM "order_summary" WHERE "status" = 'created'"#)
        try store.prepareShadow(pipeline: Orders.name, version: 2, hash: Orders.otherHash, views: Orders.views)
        try store.write(pipeline: Orders.name, target: .shadow) { tx in try tx.apply([Orders.order("new")]) }
        try store.swap(pipeline: Orders.name, newVersion: 2, newHash: Orders.otherHash)
        let ids = try opened.texts(#"SELECT "order_id" FROM "open_orders""#)
        #expect(ids == ["new"])
    }

    @Test("a foreign table with a view's name stops a rebuild before it starts", arguments: StoreKind.allCases)
    func foreignTableBlocksShadow(kind: StoreKind) throws {
        let opened = try kind.open()
        let store = opened.store
        try opened.execute(#"CREATE TABLE "order_summary" ("x" INTEGER)"#)
        let error = try #require(throws: ViewStoreError.self) {
            try store.prepareShadow(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        }
        #expect(error.code == .viewOwned)
    }
}

@Suite("A rebuild in another process")
struct ConcurrentRebuildTests {
    @Test("a worker whose views were swapped by another connection stops and resumes at the new checkpoints")
    func workerNoticesSwap() throws {
        let temporary = try TemporaryDatabase()
        let worker = try Orders.preparedStore(temporary.path)
        try worker.write(pipeline: Orders.name) { tx in
            try tx.apply([Orders.order("o1")])
            try tx.setCheckpoints([Checkpoint(topic: "orders", partition: 0, nextOffset: 100)])
        }

        // Same definition, rebuilt elsewhere up to offset 90.
        let rebuild = try SQLiteViewStore(path: temporary.path)
        try rebuild.prepareShadow(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        try rebuild.write(pipeline: Orders.name, target: .shadow) { tx in
            try tx.apply([Orders.order("o1", status: "rebuilt")])
            try tx.setCheckpoints([Checkpoint(topic: "orders", partition: 0, nextOffset: 90)])
        }
        try rebuild.swap(pipeline: Orders.name, newVersion: 1, newHash: Orders.hash)

        let error = try #require(throws: ViewStoreError.self) {
            try worker.write(pipeline: Orders.name) { tx in
                try tx.apply([Orders.order("o2")])
                try tx.setCheckpoints([Checkpoint(topic: "orders", partition: 0, nextOffset: 110)])
            }
        }
        #expect(error.code == .generationChanged)
        #expect(try worker.rows(ofView: "order_summary").rows == [Orders.order("o1", status: "rebuilt").row])

        try worker.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        #expect(try worker.checkpoints(pipeline: Orders.name) == [Checkpoint(topic: "orders", partition: 0, nextOffset: 90)])
        try worker.write(pipeline: Orders.name) { tx in try tx.apply([Orders.order("o2")]) }
        #expect(try worker.rows(ofView: "order_summary").rows.count == 2)

        // A shadow dropped by another connection stops the writer of that shadow too.
        try worker.prepareShadow(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        try rebuild.dropShadow(pipeline: Orders.name)
        let dropped = try #require(throws: ViewStoreError.self) {
            try worker.write(pipeline: Orders.name, target: .shadow) { tx in try tx.apply([Orders.order("o3")]) }
        }
        #expect(dropped.code == .generationChanged)
    }
}
