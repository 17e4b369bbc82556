import Foundation
import KafkaClient
import ProjectorHTTP
import ProjectorModel
import ProjectorTestSupport
import ProjectorTesting
import Synchronization
import Testing
import Views

/// Runs `body` on another thread; `value()` waits for its result.
final class Background<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () throws -> Value) {
        Thread.detachNewThread { [self] in
            let outcome = Result { try body() }
            result.withLock { $0 = outcome }
            done.signal()
        }
    }

    func value() throws -> Value {
        done.wait()
        return try result.withLock { $0! }.get()
    }
}

extension ReadServerTests {
    /// Positions over real HTTP: Projector-Position, Projector-Min-Position with and without
    /// Prefer: wait, the limits on waiting, and reads across a rebuild's swap.
    @Suite("read API: positions, waits and swaps")
    struct ReadPositionTests {
        static func seeded(_ kind: ReadStoreKind = .sqlite, limits: ReadLimits = ReadLimits()) throws -> ReadFixture {
            let fixture = try ReadFixture(kind, limits: limits)
            try fixture.write([ReadFixture.item("a-1", "Anvil", price: 1, stock: 1, active: true, tags: nil, note: "old")], checkpoints: [0: 10, 1: 4])
            return fixture
        }

        @Test("a position the view has not reached answers 503 at once without Prefer: wait, with Retry-After and both positions", arguments: ReadStoreKind.allCases)
        func behindWithoutWait(kind: ReadStoreKind) throws {
            let fixture = try Self.seeded(kind)
            let wanted = ReadFixture.token([0: 11, 1: 2])
            let answer = try fixture.get("/views/items/rows/a-1", headers: ["Projector-Min-Position": wanted])
            #expect(answer.status == 503)
            #expect(answer.headers["retry-after"] == "1")
            #expect(try KafkaPosition(token: try #require(answer.headers["projector-position"])).offsets == ["orders": [0: 10, 1: 4]])
            #expect(answer.headers["projector-min-position"] == wanted)
            let body = try answer.object()
            #expect(body["behind"] as? [String] == ["orders/0"])
            #expect(body["code"] as? String == "positionNotReached")
            // Reached (equal next offsets), and partitions of topics the pipeline does not read are not waited on.
            let reached = KafkaPosition(offsets: ["orders": [0: 10, 1: 4], "payments": [0: 999]]).token
            #expect(try fixture.get("/views/items/rows/a-1?min_position=" + reached).status == 200)
        }

        @Test("Prefer: wait holds the read until a commit reaches the position, then answers with the commit's rows and Preference-Applied", arguments: ReadStoreKind.allCases)
        func waitsForTheWrite(kind: ReadStoreKind) throws {
            let fixture = try Self.seeded(kind)
            let port = fixture.port
            let wanted = ReadFixture.token([1: 5])
            let read = Background {
                try httpGet("http://127.0.0.1:\(port)/views/items/rows/b-2", headers: ["Projector-Min-Position": wanted, "Prefer": "wait=10"])
            }
            // Not yet there: the same read without a wait is refused.
            #expect(try fixture.get("/views/items/rows/b-2", headers: ["Projector-Min-Position": wanted]).status == 503)
            try fixture.write([ReadFixture.item("b-2", "Bolt", price: 2, stock: 9, active: false, tags: nil, note: nil)], checkpoints: [1: 5])
            let answer = try read.value()
            #expect(answer.status == 200, "\(answer.text)")
            #expect(answer.headers["preference-applied"] == "wait=10")
            #expect(try answer.object()["stock"] as? Int == 9)
            #expect(try KafkaPosition(token: try #require(answer.headers["projector-position"])).offsets["orders"]?[1] == 5)
        }

        @Test("a wait that runs out answers 503 after the wait, not before")
        func waitTimesOut() throws {
            let fixture = try Self.seeded()
            let clock = ContinuousClock()
            let start = clock.now
            let answer = try fixture.get("/views/items/rows/a-1", headers: ["Projector-Min-Position": ReadFixture.token([0: 50]), "Prefer": "wait=0.3"])
            #expect(answer.status == 503)
            #expect(clock.now - start >= .milliseconds(300))
            #expect(try answer.object()["error"] as? String == "the view did not reach the requested position within 0.3 s")
        }

        @Test("past the limit of concurrent waits a read gets 429; the waiting one still answers")
        func tooManyWaits() throws {
            let fixture = try Self.seeded(limits: ReadLimits(maxConcurrentWaits: 1))
            let port = fixture.port
            let wanted = ReadFixture.token([0: 12])
            // The only slot may be held for a moment by one of the probing reads below: the first
            // read asks again until it holds the slot itself.
            let first = Background {
                var answer: HTTPAnswer
                repeat {
                    answer = try httpGet("http://127.0.0.1:\(port)/views/items/rows/a-1", headers: ["Projector-Min-Position": wanted, "Prefer": "wait=20"])
                } while answer.status == 429
                return answer
            }
            var refused: HTTPAnswer?
            try waitUntil(deadline: .seconds(15), pollInterval: .milliseconds(20), "a second waiting read to be refused") {
                let answer = try fixture.get("/views/items/rows/a-1", headers: ["Projector-Min-Position": wanted, "Prefer": "wait=0.05"])
                if answer.status == 429 { refused = answer }
                return refused != nil
            }
            #expect(refused?.headers["retry-after"] == "1")
            #expect(try refused?.object()["code"] as? String == "tooManyWaits")
            try fixture.write([], checkpoints: [0: 12])
            #expect(try first.value().status == 200)
        }

        @Test("reads across a rebuild's swap never fail and never mix generations; a token of the old generation still works", arguments: ReadStoreKind.allCases)
        func readsAcrossSwap(kind: ReadStoreKind) throws {
            let fixture = try ReadFixture(kind)
            let old = (0 ..< 300).map { ReadFixture.item(String(format: "k-%03d", $0), "old", price: 1, stock: 1, active: true, tags: nil, note: "old") }
            try fixture.write(old, checkpoints: [0: 100])
            let before = try fixture.get("/views/items/rows?limit=1")
            let oldToken = try #require(before.headers["projector-position"])
            let oldGeneration = try KafkaPosition(token: oldToken).generation

            let stop = Atomic<Bool>(false)
            let total = Atomic<Int>(0)
            let port = fixture.port
            let readers = (0 ..< 2).map { _ in
                Background { () -> (reads: Int, failures: [String], generations: Set<String>) in
                    var reads = 0
                    var failures: [String] = []
                    var generations = Set<String>()
                    while !stop.load(ordering: .relaxed) || reads == 0 {
                        let answer = try httpGet("http://127.0.0.1:\(port)/views/items/rows?limit=1000")
                        reads += 1
                        total.add(1, ordering: .relaxed)
                        guard answer.status == 200, let rows = try? answer.object()["rows"] as? [[String: Any]] else {
                            failures.append("\(answer.status): \(answer.text)")
                            continue
                        }
                        let notes = Set(rows.map { $0["note"] as? String ?? "" })
                        if notes.count != 1 || rows.count != 300 { failures.append("a mixed page: \(notes), \(rows.count) rows") }
                        if let generation = try? KafkaPosition(token: answer.headers["projector-position"] ?? "").generation { generations.insert(generation) }
                    }
                    return (reads, failures, generations)
                }
            }
            try fixture.store.prepareShadow(pipeline: "shop", version: 2, hash: "sha256:shop2", views: [ReadFixture.items, ReadFixture.lines])
            for chunk in stride(from: 0, to: 300, by: 50) {
                try fixture.write((chunk ..< chunk + 50).map { ReadFixture.item(String(format: "k-%03d", $0), "new", price: 2, stock: 2, active: false, tags: nil, note: "new") },
                                  checkpoints: [0: 100], target: .shadow)
            }
            try waitUntil(deadline: .seconds(30), "reads before the swap") { total.load(ordering: .relaxed) >= 10 }
            try fixture.store.swap(pipeline: "shop", newVersion: 2, newHash: "sha256:shop2")
            let swappedAt = total.load(ordering: .relaxed)
            try waitUntil(deadline: .seconds(30), "reads after the swap") { total.load(ordering: .relaxed) >= swappedAt + 10 }
            stop.store(true, ordering: .relaxed)
            for reader in readers {
                let (reads, failures, generations) = try reader.value()
                #expect(failures.isEmpty, "\(failures.prefix(3))")
                #expect(reads > 2)
                #expect(generations.count == 2)
            }
            let after = try fixture.get("/views/items/rows/k-000", headers: ["Projector-Min-Position": oldToken, "Prefer": "wait=1"])
            #expect(after.status == 200)
            #expect(try after.object()["note"] as? String == "new")
            #expect(try KafkaPosition(token: try #require(after.headers["projector-position"])).generation != oldGeneration)
        }
    }
}
