import ProjectorTools
import ProjectorTestSupport
import Foundation
import KafkaClient
import Pipelines
import Projector
import ProjectorTesting
import Testing
import Views
import ProjectorModel

/// `projector dlq` on a `dead_letter: {park_key: true}` pipeline, through the built binary.
@Suite("dlq commands with parked keys, end to end")
struct DeadLetterParkCommandTests {
    @Test("list shows parked letters; replay refuses an out-of-order --id with exit 2; skip releases the head")
    func parkedLetters() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("counts", partitions: 1)
        let directory = try TemporaryDatabase()
        let pipeline = directory.path(named: "counts.yaml")
        try CountsPipeline.yaml(settings: ["on_error: dead-letter", "dead_letter: {park_key: true}"])
            .write(toFile: pipeline, atomically: true, encoding: .utf8)
        let events = [("a", "1"), ("a", "9223372036854775807"), ("b", "1"), ("a", "2")].map { id, by in
            DemoEvent(topic: "counts", key: id, value: #"{"eventType":"Add","data":{"id":"\#(id)","by":\#(by)}}"#)
        }
        _ = try EventPublisher(brokers: fixture.bootstrapServers).publish(events)
        let run = try ProjectorExecutable.run(["run", pipeline, "--brokers", fixture.bootstrapServers, "--db", directory.path,
                                               "--exit-at-end", "--group", fixture.makeGroupID()])
        #expect(run.status == 0, "\(run.stderr)")

        let list = try ProjectorExecutable.run(["dlq", "list", "counts", "--db", directory.path, "--json"])
        let letters = try list.jsonLines()
        #expect(letters.count == 2)
        let head = try #require(letters.first?["id"] as? Int)
        let parked = try #require(letters.last?["id"] as? Int)
        #expect(letters.map { $0["park_key"] as? String } == ["a", "a"])
        #expect(letters.first?["parked_behind"] is NSNull)
        #expect(letters.last?["parked_behind"] as? Int == head)
        #expect((letters.last?["error"] as? String)?.hasPrefix("parked: key a is parked behind the dead letter at counts/0/1") == true)
        let table = try ProjectorExecutable.run(["dlq", "list", "--db", directory.path])
        #expect(table.stdout.contains("parked behind"))

        let outOfOrder = try ProjectorExecutable.run(["dlq", "replay", pipeline, "--db", directory.path, "--id", String(parked)])
        #expect(outOfOrder.status == 2)
        #expect(outOfOrder.stderr.contains("dead letter \(parked) of key a comes after dead letter \(head)"), "\(outOfOrder.stderr)")

        let stillFailing = try ProjectorExecutable.run(["dlq", "replay", pipeline, "--db", directory.path])
        #expect(stillFailing.status == 1)
        #expect(stillFailing.stderr.contains("dead letter \(parked) still fails: parked: key a stays parked behind dead letter \(head)"))

        let skip = try ProjectorExecutable.run(["dlq", "skip", "counts", "--db", directory.path, "--id", String(head)])
        #expect(skip.status == 0, "\(skip.stderr)")
        let replay = try ProjectorExecutable.run(["dlq", "replay", pipeline, "--db", directory.path])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.contains("replayed 1 dead letter(s) of counts"))
        let store = try SQLiteViewStore(path: directory.path, configuration: .init(isReadOnly: true))
        #expect(try store.rows(ofView: "counts").rows == [[.text("a"), .integer(3)], [.text("b"), .integer(1)]])
        #expect(try store.rows(ofView: "_projector_parked_counts").rows.isEmpty)
        #expect(try store.deadLetters().isEmpty)
    }
}
