import Foundation
import KafkaClient
import Pipelines
import Projector
import ProjectorTesting
import Testing
import Views
import ProjectorModel

/// `dead_letter: {park_key: true}` against the mock cluster and real SQLite files: a poison event
/// parks its key, replay applies the key's letters in order, skip releases the key, and a rebuild
/// equals the live views, parked keys included.
@Suite("park_key")
struct ParkKeyTests {
    /// Per account the running sum and the sequence numbers applied, in order.
    static let yaml = """
        name: accounts
        version: 1
        source: {topics: [accounts], type: $.eventType, key: $.data.id}
        on_error: dead-letter
        dead_letter: {park_key: true}
        views:
          accounts:
            key: [id]
            columns: {id: text, n: integer, seqs: {type: text, default: "''"}}
        on:
          Add:
            - upsert: accounts
              key: {id: $key}
              set: {n: n + $.data.by, seqs: "seqs || ',' || $.data.seq"}
        """

    static func add(_ id: String, seq: Int, by: Int64) -> RebuildSupport.Event {
        RebuildSupport.Event(topic: "accounts", key: id, value: #"{"eventType":"Add","data":{"id":"\#(id)","seq":\#(seq),"by":\#(by)}}"#)
    }

    static func runWorker(_ plan: Plan, store: SQLiteViewStore, brokers: String) throws -> Worker.Progress {
        try Worker(projection: plan, store: store,
                   configuration: WorkerConfiguration(brokers: brokers, groupID: "park-\(UUID().uuidString)", exitsAtEnd: true))
            .run(until: ShutdownSignal())
    }

    static func rows(_ store: SQLiteViewStore) throws -> [[ViewValue]] { try store.rows(ofView: "accounts").rows }

    static func parked(_ store: SQLiteViewStore) throws -> [[ViewValue]] {
        try store.rows(ofView: ParkedKeys.tableName(pipeline: "accounts")).rows
    }

    /// a1 applies; a2 overflows and parks `a`; a3, a4 wait behind it; b1, b2 apply.
    static func poisonStream() -> [RebuildSupport.Event] {
        [add("a", seq: 1, by: 1), add("a", seq: 2, by: Int64.max), add("a", seq: 3, by: 1),
         add("b", seq: 1, by: 5), add("a", seq: 4, by: 2), add("b", seq: 2, by: 1)]
    }

    @Test("a poison event parks its key; replay after the fix applies the key's letters in order")
    func parkThenReplayInOrder() throws {
        let plan = try RebuildSupport.plan(yaml: Self.yaml)
        let fixture = try RebuildSupport.cluster([("accounts", 1)])
        try RebuildSupport.produce(Self.poisonStream(), brokers: fixture.bootstrapServers)
        let database = try TemporaryDatabase()
        let store = try SQLiteViewStore(path: database.path)

        let progress = try Self.runWorker(plan, store: store, brokers: fixture.bootstrapServers)
        #expect(progress.counters.applied == 3)
        #expect(progress.counters.deadLettered == 3)
        #expect(progress.counters.parked == 2)
        #expect(try Self.rows(store) == [[.text("a"), .integer(1), .text(",1")], [.text("b"), .integer(6), .text(",1,2")]])
        #expect(try Self.parked(store) == [[.text("a"), .text("accounts"), .integer(0), .integer(1)]])
        let letters = try store.deadLetters(pipeline: "accounts", limit: nil)
        #expect(letters.map(\.letter.offset) == [1, 2, 4])
        #expect(letters.map(\.letter.parkKey) == ["a", "a", "a"])
        #expect(letters[0].letter.error.hasPrefix("overflow"))
        #expect(letters[1].letter.error.hasPrefix("parked: key a is parked behind the dead letter at accounts/0/1"))
        let counters = try store.counters(pipeline: "accounts")
        #expect(counters["dead_lettered"] == 3 && counters["parked"] == 2 && counters["applied"] == 3)
        #expect(try store.checkpoints(pipeline: "accounts") == [Checkpoint(topic: "accounts", partition: 0, nextOffset: 6)])

        // A selection that leaves out the key's first letter is refused, and changes nothing.
        let replay = DeadLetterReplay(projection: plan, store: store)
        #expect(throws: ProjectorError.self) { try replay.run(ids: [letters[1].id]) }
        do {
            _ = try replay.run(ids: [letters[2].id])
            Issue.record("an out-of-order selection was replayed")
        } catch {
            #expect(error.code == .usage)
            #expect(error.message.contains("dead letter \(letters[2].id) of key a comes after dead letter \(letters[0].id)"))
        }
        #expect(try store.deadLetters(pipeline: "accounts", limit: nil).count == 3)

        // Fix the cause: a2 now fits. Replay applies a2, a3, a4 in that order, unparks `a`.
        try store.write(pipeline: "accounts") { transaction in
            try transaction.apply([ViewChange(view: 0, key: [.text("a")], row: [.text("a"), .integer(-Int64.max), .text(",1")])])
        }
        let outcome = try replay.run()
        #expect(outcome.replayed == letters.map(\.id))
        #expect(outcome.stillFailing.isEmpty)
        #expect(try Self.rows(store) == [[.text("a"), .integer(3), .text(",1,2,3,4")], [.text("b"), .integer(6), .text(",1,2")]])
        #expect(try Self.parked(store).isEmpty)
        #expect(try store.deadLetters().isEmpty)

        // `a` is released: its next event applies.
        try RebuildSupport.produce([Self.add("a", seq: 5, by: 10)], brokers: fixture.bootstrapServers)
        #expect(try Self.runWorker(plan, store: store, brokers: fixture.bootstrapServers).counters.applied == 1)
        #expect(try Self.rows(store)[0] == [.text("a"), .integer(13), .text(",1,2,3,4,5")])
    }

    @Test("replay where the head still fails keeps the rest parked; skip releases the key")
    func headStillFailsThenSkip() throws {
        let plan = try RebuildSupport.plan(yaml: Self.yaml)
        let fixture = try RebuildSupport.cluster([("accounts", 1)])
        try RebuildSupport.produce(Self.poisonStream(), brokers: fixture.bootstrapServers)
        let database = try TemporaryDatabase()
        let store = try SQLiteViewStore(path: database.path)
        _ = try Self.runWorker(plan, store: store, brokers: fixture.bootstrapServers)
        let letters = try store.deadLetters(pipeline: "accounts", limit: nil)
        #expect(letters.count == 3)

        let outcome = try DeadLetterReplay(projection: plan, store: store).run()
        #expect(outcome.replayed.isEmpty)
        #expect(outcome.stillFailing.map(\.id) == letters.map(\.id))
        #expect(outcome.stillFailing[0].reason.hasPrefix("overflow"))
        #expect(outcome.stillFailing[1].reason.contains("stays parked behind dead letter \(letters[0].id)"))
        #expect(try Self.rows(store)[0] == [.text("a"), .integer(1), .text(",1")], "nothing of a applied out of order")
        #expect(try Self.parked(store) == [[.text("a"), .text("accounts"), .integer(0), .integer(1)]])
        #expect(try store.deadLetters(pipeline: "accounts", limit: nil) == letters)

        // Skipping the head: `a` now waits behind a3 (offset 2).
        #expect(try store.skipDeadLetters(pipeline: "accounts", ids: [letters[0].id]) == 1)
        #expect(try Self.parked(store) == [[.text("a"), .text("accounts"), .integer(0), .integer(2)]])
        // Replaying what is left applies a3 and a4 in order, on top of a1.
        let rest = try DeadLetterReplay(projection: plan, store: store).run()
        #expect(rest.replayed == [letters[1].id, letters[2].id])
        #expect(try Self.rows(store)[0] == [.text("a"), .integer(4), .text(",1,3,4")])
        #expect(try Self.parked(store).isEmpty)

        // A new poison parks `a` again; skipping every letter of it releases the key.
        try RebuildSupport.produce([Self.add("a", seq: 5, by: Int64.max), Self.add("a", seq: 6, by: 1)], brokers: fixture.bootstrapServers)
        _ = try Self.runWorker(plan, store: store, brokers: fixture.bootstrapServers)
        let again = try store.deadLetters(pipeline: "accounts", limit: nil).map(\.id)
        #expect(again.count == 2)
        #expect(try Self.parked(store).count == 1)
        #expect(try store.skipDeadLetters(pipeline: "accounts", ids: again) == 2)
        #expect(try Self.parked(store).isEmpty)
        try RebuildSupport.produce([Self.add("a", seq: 7, by: 1)], brokers: fixture.bootstrapServers)
        #expect(try Self.runWorker(plan, store: store, brokers: fixture.bootstrapServers).counters.applied == 1)
        #expect(try Self.rows(store)[0] == [.text("a"), .integer(5), .text(",1,3,4,7")])
    }

    @Test("rebuild equals live for a park_key pipeline, parked keys and dead letters included")
    func rebuildEqualsLive() throws {
        let plan = try RebuildSupport.plan(yaml: Self.yaml)
        let fixture = try RebuildSupport.cluster([("accounts", 3)])
        var events: [RebuildSupport.Event] = []
        for index in 0 ..< 2_000 {
            let id = "k-\(index % 41)"
            // Every 97th event overflows: its key is parked from there on.
            events.append(Self.add(id, seq: index, by: index % 97 == 50 ? Int64.max : Int64(index % 10 + 1)))
        }
        try RebuildSupport.produce(events, brokers: fixture.bootstrapServers)
        let database = try TemporaryDatabase()
        try RebuildSupport.runLive(plan, path: database.path, brokers: fixture.bootstrapServers)
        let live = try RebuildSupport.snapshot(plan, path: database.path)
        let store = try SQLiteViewStore(path: database.path)
        let liveLetters = try store.deadLetters(pipeline: "accounts", limit: nil)
        let parkedKeys = try Self.parked(store).count
        #expect(parkedKeys > 5)
        #expect(liveLetters.count > parkedKeys, "later events of parked keys were parked too")

        let summary = try RebuildSupport.rebuild(plan, path: database.path, brokers: fixture.bootstrapServers) { $0.maxBatchMessages = 300 }
        #expect(summary.outcome == .swapped)
        let rebuilt = try RebuildSupport.snapshot(plan, path: database.path)
        #expect(rebuilt.checkpoints == live.checkpoints)
        #expect(rebuilt.digests == live.digests)
        #expect(plan.views.last?.name == ParkedKeys.tableName(pipeline: "accounts"))
        #expect(rebuilt.digests.last?.rowCount == parkedKeys, "the parked keys table is compared too")
        let letters = try store.deadLetters(pipeline: "accounts", limit: nil)
        #expect(letters.map(\.letter.offset) == liveLetters.map(\.letter.offset), "the rebuild found the same letters")
    }
}
