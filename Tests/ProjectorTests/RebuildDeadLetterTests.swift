import Foundation
import Pipelines
import Projector
import ProjectorTesting
import Testing
import Views
import ProjectorModel

/// A rebuild replaces the dead letters of the offsets it read with its own: an event a fixed
/// pipeline now applies leaves no letter behind for `dlq replay` to apply a second time.
@Suite("rebuild and dead letters")
struct RebuildDeadLetterTests {
    static func counts(version: Int, add: String) -> String {
        """
        name: counts
        version: \(version)
        source: {topics: [counts], type: $.eventType, key: $.data.id}
        on_error: dead-letter
        views:
          counts: {key: [id], columns: {id: text, n: integer}}
        on:
          Add:
            - upsert: counts
              key: {id: $key}
              set: {n: "\(add)"}
        """
    }

    static func add(_ id: String, _ by: String) -> RebuildSupport.Event {
        RebuildSupport.Event(topic: "counts", key: id, value: #"{"eventType":"Add","data":{"id":"\#(id)","by":\#(by)}}"#)
    }

    @Test("letters the rebuild applied are dropped at the swap; letters it dead-lettered again stay once")
    func rebuildWithAFixedPipeline() throws {
        let fixture = try RebuildSupport.cluster([("counts", 1)])
        let brokers = fixture.bootstrapServers
        // Offset 1 overflows in version 1 only; offset 2 (text) fails in both versions.
        try RebuildSupport.produce([Self.add("a", "1"), Self.add("a", "\(Int64.max)"), Self.add("b", #""x""#), Self.add("b", "2")],
                                   brokers: brokers)
        let database = try TemporaryDatabase()
        let broken = try RebuildSupport.plan(yaml: Self.counts(version: 1, add: "n + $.data.by"))
        try RebuildSupport.runLive(broken, path: database.path, brokers: brokers)
        let store = try SQLiteViewStore(path: database.path)
        #expect(try store.deadLetters(pipeline: "counts", limit: nil).map(\.letter.offset) == [1, 2])

        let fixed = try RebuildSupport.plan(yaml: Self.counts(version: 2, add: "if($.data.by > 1000, n + 1000, n + $.data.by)"))
        #expect(try RebuildSupport.rebuild(fixed, path: database.path, brokers: brokers).outcome == .swapped)
        #expect(try store.rows(ofView: "counts").rows == [[.text("a"), .integer(1001)], [.text("b"), .integer(2)]])
        let letters = try store.deadLetters(pipeline: "counts", limit: nil)
        #expect(letters.map(\.letter.offset) == [2], "the applied event's letter is gone; the one still failing is kept once")

        let replay = try DeadLetterReplay(projection: fixed, store: store).run()
        #expect(replay.replayed.isEmpty)
        #expect(try store.rows(ofView: "counts").rows == [[.text("a"), .integer(1001)], [.text("b"), .integer(2)]])
    }
}
