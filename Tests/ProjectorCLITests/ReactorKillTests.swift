import ProjectorTools
import ProjectorTestSupport
import Foundation
import KafkaClient
import Projector
import ProjectorTesting
import Testing
import Views
import ProjectorModel

/// SIGKILL of `projector run` for a pipeline that emits: commits and publications are cut at
/// random instants (between the commit and the relay's produce, between the acknowledgement and
/// the delete), and after dedupe by `projector.id` every command appears exactly once, in order per key.
@Suite("faults: SIGKILL with emits")
struct ReactorKillTests {
    /// One command read back: its key, the `projector.id` header and the index of the event that emitted it.
    struct Command {
        var key: String
        var id: String
        var event: Int
    }

    /// Every record of partition 0 of `topic` up to its high watermark.
    static func readCommands(_ topic: String, brokers: String) throws -> [Command] {
        let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: brokers))
        defer { try? consumer.close() }
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        let high = try consumer.watermarks(partition, timeout: .seconds(10)).high
        try consumer.assign([partition: .beginning])
        var commands: [Command] = []
        var read: Int64 = 0
        try waitUntil(deadline: .seconds(90), pollInterval: .zero, "\(high) commands") {
            try consumer.poll(maxMessages: 1_000, timeout: .milliseconds(100)) { batch in
                for record in batch {
                    read += 1
                    let value = record.value.map { String(decoding: $0, as: UTF8.self) } ?? ""
                    let object = try JSONSerialization.jsonObject(with: Data(value.utf8)) as? [String: Any]
                    let event = (object?["event"] as? String).flatMap { Int($0.dropFirst()) } ?? -1
                    let id = record.headers.first { $0.name == "projector.id" }?.value.map { String(decoding: $0, as: UTF8.self) } ?? ""
                    commands.append(Command(key: record.key.map { String(decoding: $0, as: UTF8.self) } ?? "", id: id, event: event))
                }
            }
            return read >= high
        }
        return commands
    }

    @Test("run: ≥10 SIGKILLs while events arrive; after dedupe by projector.id every command appears once, none missing, in order per key")
    func killWhileEmitting() throws {
        let stream = try LedgerStream(partitions: 2, pipelineExtra: "emit_topics: [ledger-commands]")
        try stream.fixture.cluster.createTopic("ledger-commands", partitions: 1)
        // The ledger pipeline, plus one command per event.
        let yaml = ReferenceLedger.pipeline(topic: stream.topic, extra: "emit_topics: [ledger-commands]")
            + "    - emit: {topic: ledger-commands, key: $key, value: {event: $.eventId, amount: $.data.amount}}\n"
        try yaml.write(toFile: stream.pipelinePath, atomically: true, encoding: .utf8)
        try stream.publish(500)
        let kills = try stream.killRunsWhileEventsFlow(rounds: isLongRun ? 30 : 12, eventsPerRound: isLongRun ? 1_000 : 300, chunks: 3,
                                                        batchSize: 20, pauseUpTo: 300)
        let last = try stream.start("last", group: stream.fixture.makeGroupID())
        try stream.waitUntilAllApplied()
        // The relay drains at a clean stop: every committed command is acknowledged before exit 0.
        last.expectCleanStop("the last run")
        #expect(kills >= 10)

        let store = try SQLiteViewStore(path: stream.database, configuration: .init(isReadOnly: true))
        #expect(try store.rows(ofView: Outbox.tableName(pipeline: ReferenceLedger.pipelineName)).rows.isEmpty)
        let commands = try Self.readCommands("ledger-commands", brokers: stream.bootstrapServers)
        var seen: Set<String> = []
        var deduplicated: [Command] = []
        for command in commands where seen.insert(command.id).inserted { deduplicated.append(command) }
        let events = Set(deduplicated.map(\.event))
        #expect(deduplicated.count == stream.publishedCount, "one command per event after dedupe (\(commands.count) records read)")
        #expect(events == Set(0 ..< stream.publishedCount), "none missing")
        #expect(deduplicated.allSatisfy { $0.id.hasPrefix("ledger/\(stream.topic)/") })
        // Events of one account are in one partition, in publication order: so are their commands.
        var lastByKey: [String: Int] = [:]
        var outOfOrder: [String] = []
        for command in deduplicated {
            if let previous = lastByKey[command.key], previous > command.event { outOfOrder.append("\(command.key): e\(previous) before e\(command.event)") }
            lastByKey[command.key] = command.event
        }
        #expect(outOfOrder.isEmpty, "\(outOfOrder.prefix(10))")
        reportScenario("SIGKILL run with emits", faults: kills, events: stream.publishedCount, problems: outOfOrder)
    }
}
