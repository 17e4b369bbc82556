import ProjectorTestSupport
import Foundation
import KafkaClient
import Pipelines
import Projector
import ProjectorTesting
import Testing
import Views
import ProjectorModel

/// `dead_letter: {topic: ...}` end to end: the built binary, a real SQLite file, the mock cluster.
@Suite("dead-letter topic, end to end")
struct DeadLetterTopicTests {
    /// A dead-lettered message as read back from the topic.
    struct Letter: Equatable {
        var key: String?
        var value: String?
        var headers: [String: String?]
    }

    static func pipeline(topic: String) -> String {
        CountsPipeline.yaml(settings: ["on_error: dead-letter", "dead_letter: {topic: \(topic)}"])
    }

    /// Produces keyed messages with headers and waits for every acknowledgement.
    static func produce(_ messages: [KafkaProducerMessage], brokers: String) throws {
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: brokers))
        for message in messages { try producer.send(message) }
        try producer.flush(timeout: .seconds(30))
        for report in try producer.pollDeliveryReports() { if let error = report.error { throw error } }
    }

    /// Reads partition 0 of `topic` from the start until `count` records came, and the high watermark.
    static func readBack(_ topic: String, count: Int, brokers: String) throws -> (letters: [Letter], high: Int64) {
        let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: brokers))
        defer { try? consumer.close() }
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        try consumer.assign([partition: .beginning])
        var letters: [Letter] = []
        try waitUntil(deadline: .seconds(60), pollInterval: .zero, "\(count) dead letters on \(topic)") {
            try consumer.poll(maxMessages: 100, timeout: .milliseconds(100)) { batch in
                for record in batch {
                    var headers: [String: String?] = [:]
                    for header in record.headers {
                        headers.updateValue(header.value.map { String(decoding: $0, as: UTF8.self) }, forKey: header.name)
                    }
                    letters.append(Letter(key: record.key.map { String(decoding: $0, as: UTF8.self) },
                                          value: record.value.map { String(decoding: $0, as: UTF8.self) }, headers: headers))
                }
            }
            return letters.count >= count
        }
        return (letters, try consumer.watermarks(partition, timeout: .seconds(10)).high)
    }

    @Test("dead letters reach the topic with the original key, value and headers and are marked published; a letter left pending by a crash is produced again")
    func lettersReachTheTopic() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("counts", partitions: 1)
        try fixture.cluster.createTopic("counts.dlq", partitions: 1)
        let directory = try TemporaryDatabase()
        let pipeline = directory.path(named: "counts.yaml")
        try Self.pipeline(topic: "counts.dlq").write(toFile: pipeline, atomically: true, encoding: .utf8)
        let overflow = #"{"eventType":"Add","data":{"id":"a","by":9223372036854775807}}"#
        func add(_ id: String, _ by: Int, trace: String) -> KafkaProducerMessage {
            KafkaProducerMessage(topic: "counts", key: Array(id.utf8), value: Array(#"{"eventType":"Add","data":{"id":"\#(id)","by":\#(by)}}"#.utf8),
                                 headers: [KafkaHeader(name: "trace", string: trace)])
        }
        try Self.produce([
            add("a", 1, trace: "t-0"),
            KafkaProducerMessage(topic: "counts", key: Array("a".utf8), value: Array(overflow.utf8),
                                 headers: [KafkaHeader(name: "trace", string: "t-1"), KafkaHeader(name: "empty", value: nil)]),
            add("b", 2, trace: "t-2"),
            KafkaProducerMessage(topic: "counts", key: nil, value: Array("{broken".utf8), headers: []),
            add("b", 3, trace: "t-4"),
        ], brokers: fixture.bootstrapServers)

        let arguments = ["run", pipeline, "--brokers", fixture.bootstrapServers, "--db", directory.path,
                         "--exit-at-end", "--group", fixture.makeGroupID()]
        let run = try ProjectorExecutable.run(arguments)
        #expect(run.status == 0, "\(run.stderr)")

        let (letters, high) = try Self.readBack("counts.dlq", count: 2, brokers: fixture.bootstrapServers)
        #expect(high == 2, "exactly the two failing messages")
        #expect(letters.count == 2)
        let first = try #require(letters.first)
        #expect(first.key == "a")
        #expect(first.value == overflow)
        #expect(first.headers["trace"] == "t-1")
        #expect(first.headers.keys.contains("empty") && first.headers["empty"] == .some(nil), "a null header stays null")
        #expect(first.headers["projector.pipeline"] == "counts")
        #expect(first.headers["projector.topic"] == "counts")
        #expect(first.headers["projector.partition"] == "0")
        #expect(first.headers["projector.offset"] == "1")
        #expect(first.headers["projector.error"]??.hasPrefix("overflow") == true)
        let second = try #require(letters.last)
        #expect(second.key == nil)
        #expect(second.value == "{broken")
        #expect(second.headers["projector.offset"] == "3")
        #expect(second.headers["projector.error"]??.hasPrefix("malformedJSON") == true)

        let store = try SQLiteViewStore(path: directory.path, configuration: .init(isReadOnly: true))
        #expect(try store.deadLetters().map(\.letter.publication) == [.published, .published])
        #expect(try store.rows(ofView: "counts").rows == [[.text("a"), .integer(1)], [.text("b"), .integer(5)]])
        let list = try ProjectorExecutable.run(["dlq", "list", "counts", "--db", directory.path, "--json"])
        #expect(list.stdout.split(separator: "\n").allSatisfy { $0.contains(#""published":true"#) }, "\(list.stdout)")

        let status = try ProjectorExecutable.run(["status", "--db", directory.path, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let entry = try #require((object["pipelines"] as? [[String: Any]])?.first)
        #expect(entry["dead_letters"] as? Int == 2)
        #expect(entry["unpublished_dead_letters"] as? Int == 0)

        // A second run has nothing new: nothing is produced twice.
        let again = try ProjectorExecutable.run(arguments)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.readBack("counts.dlq", count: 2, brokers: fixture.bootstrapServers).high == 2)
        // A crash between the acknowledgement and the mark leaves a letter pending: the next run
        // produces it again (at least once to the topic) and marks it.
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [directory.path, #"UPDATE "_projector_dead_letters" SET "published" = 0 WHERE "offset" = 3"#]
        try sqlite.run()
        sqlite.waitUntilExit()
        #expect(try store.deadLetters().map(\.letter.publication) == [.published, .pending])
        let recovered = try ProjectorExecutable.run(arguments)
        #expect(recovered.status == 0, "\(recovered.stderr)")
        let (all, total) = try Self.readBack("counts.dlq", count: 3, brokers: fixture.bootstrapServers)
        #expect(total == 3)
        #expect(all.last == second)
        #expect(try store.deadLetters().map(\.letter.publication) == [.published, .published])
    }

    @Test("a dead-letter topic the cluster does not have stops the worker at start with exit 1")
    func missingTopicFailsEarly() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("counts", partitions: 1)
        let directory = try TemporaryDatabase()
        let pipeline = directory.path(named: "counts.yaml")
        try Self.pipeline(topic: "absent.dlq").write(toFile: pipeline, atomically: true, encoding: .utf8)
        let run = try ProjectorExecutable.run(["run", pipeline, "--brokers", fixture.bootstrapServers, "--db", directory.path,
                                               "--exit-at-end", "--group", fixture.makeGroupID()])
        #expect(run.status == 1)
        #expect(run.stderr.contains("the dead-letter topic absent.dlq (dead_letter.topic) does not exist"), "\(run.stderr)")
    }
}
