import Foundation
import KafkaClient
import Pipelines
import Projector
import ProjectorTesting
import ProjectorTools
import Testing
import Views
import ProjectorModel

/// `pipelines/order_saga_reactor.yaml` end to end on the embedded broker: commands through the
/// outbox, compensations, nothing produced twice by a rerun or a rebuild.
@Suite("reactor: emit through the outbox, end to end")
struct ReactorTests {
    static let commandTopics = ["inventory-commands", "payment-commands", "shipping-commands", "order-commands"]

    /// One record read back from a command topic.
    struct Command {
        var topic: String
        var key: String?
        var type: String
        var value: [String: Any]
        var headers: [String: String]
    }

    /// Every record of `topics` (one partition each) from the start to the high watermark.
    static func readBack(_ topics: [String], brokers: String) throws -> [Command] {
        let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: brokers))
        defer { try? consumer.close() }
        var commands: [Command] = []
        for topic in topics {
            let partition = KafkaTopicPartition(topic: topic, partition: 0)
            let high = try consumer.watermarks(partition, timeout: .seconds(10)).high
            guard high > 0 else { continue }
            try consumer.assign([partition: .beginning])
            var read: Int64 = 0
            try waitUntil(deadline: .seconds(60), pollInterval: .zero, "\(high) records on \(topic)") {
                try consumer.poll(maxMessages: 100, timeout: .milliseconds(100)) { batch in
                    for record in batch {
                        read += 1
                        let text = record.value.map { String(decoding: $0, as: UTF8.self) } ?? "null"
                        let value = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
                        var headers: [String: String] = [:]
                        for header in record.headers { headers[header.name] = header.value.map { String(decoding: $0, as: UTF8.self) } }
                        commands.append(Command(
                            topic: topic, key: record.key.map { String(decoding: $0, as: UTF8.self) },
                            type: value["type"] as? String ?? "?", value: value, headers: headers))
                    }
                }
                return read >= high
            }
        }
        return commands
    }

    static func highWatermarks(brokers: String) throws -> [Int64] {
        let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: brokers))
        defer { try? consumer.close() }
        return try commandTopics.map { try consumer.watermarks(KafkaTopicPartition(topic: $0, partition: 0), timeout: .seconds(10)).high }
    }

    /// What the saga commands per order, whatever order the three topics are read in.
    static let expected: [String: [String]] = [
        "o-1001": ["ProcessPayment", "ReserveInventory", "ShipOrder"],
        "o-1002": ["CancelOrder", "ProcessPayment", "ReleaseInventory", "ReserveInventory"],
        "o-1003": ["CancelOrder", "ProcessPayment", "RefundPayment", "ReserveInventory"],
        "o-1004": ["ProcessPayment", "ReserveInventory", "ShipOrder"],
    ]

    @Test("every emitted command reaches its topic once with projector.* headers; compensations for each failure path; a rerun and a rebuild produce nothing")
    func commandsReachTheirTopics() throws {
        let fixture = try RebuildSupport.cluster([("orders", 1), ("payments", 1), ("inventory", 1)] + Self.commandTopics.map { ($0, 1) })
        let brokers = fixture.bootstrapServers
        try RebuildSupport.produce(try RebuildSupport.events(topics: ["orders", "payments", "inventory"], generated: 0), brokers: brokers)
        let plan = try RebuildSupport.plan("order_saga_reactor")
        let database = try TemporaryDatabase()
        try RebuildSupport.runLive(plan, path: database.path, brokers: brokers)

        let commands = try Self.readBack(Self.commandTopics, brokers: brokers)
        var byOrder: [String: [String]] = [:]
        for command in commands { byOrder[command.key ?? "", default: []].append(command.type) }
        #expect(byOrder.mapValues { $0.sorted() } == Self.expected, "\(commands.map { "\($0.key ?? "-") \($0.type)" })")
        let ids = commands.compactMap { $0.headers["projector.id"] }
        #expect(ids.count == commands.count && Set(ids).count == ids.count, "each record has its own projector.id")
        for command in commands {
            #expect(command.headers["projector.pipeline"] == "order_saga_reactor")
            #expect(command.headers["causation-id"] != nil)
            let source = [command.headers["projector.topic"], command.headers["projector.partition"], command.headers["projector.offset"]]
            #expect(command.headers["projector.id"]?.hasPrefix("order_saga_reactor/" + source.map { $0 ?? "?" }.joined(separator: "/") + "/") == true)
            #expect(command.value["orderId"] as? String == command.key)
            #expect(command.topic == (["ReserveInventory", "ReleaseInventory"].contains(command.type) ? "inventory-commands"
                : ["ProcessPayment", "RefundPayment"].contains(command.type) ? "payment-commands"
                : command.type == "ShipOrder" ? "shipping-commands" : "order-commands"))
        }
        let refund = try #require(commands.first { $0.type == "RefundPayment" })
        #expect((refund.value["amount"] as? NSNumber)?.doubleValue == 120.5, "\(refund.value)")

        let store = try SQLiteViewStore(path: database.path)
        let outbox = Outbox.tableName(pipeline: plan.name)
        #expect(try store.rows(ofView: outbox).rows.isEmpty, "every acknowledged record left the outbox")
        let high = try Self.highWatermarks(brokers: brokers)

        // A second run reads nothing new and produces nothing.
        try RebuildSupport.runLive(plan, path: database.path, brokers: brokers)
        #expect(try Self.highWatermarks(brokers: brokers) == high)

        // A rebuild emits every command again into its shadow, and the swap keeps none of them.
        let summary = try RebuildSupport.rebuild(plan, path: database.path, brokers: brokers)
        #expect(summary.outcome == .swapped)
        #expect(try store.rows(ofView: outbox).rows.isEmpty, "the rebuilt outbox holds nothing to produce")
        try RebuildSupport.runLive(plan, path: database.path, brokers: brokers)
        #expect(try Self.highWatermarks(brokers: brokers) == high, "a rebuild publishes nothing")

        // A crash between the commit and the produce leaves a record in the outbox: status shows
        // it and its age, and the next run produces it and empties the outbox.
        let outboxView = try #require(plan.outboxView)
        let key: [ViewValue] = [.text("orders"), .integer(0), .integer(99), .integer(0)]
        let minuteAgo = Int64(Date().timeIntervalSince1970 * 1_000) - 60_000
        try store.prepare(pipeline: plan.name, version: plan.version, hash: plan.definitionHash, views: plan.views)
        try store.write(pipeline: plan.name) { transaction in
            try transaction.apply([ViewChange(view: outboxView, key: key, row: key + [
                .text("order_saga_reactor/orders/0/99/0"), .text("order-commands"), .text("o-1001"),
                .text(#"{"type":"CancelOrder","orderId":"o-1001"}"#), .null, .integer(minuteAgo),
            ])])
        }
        let report = try StatusReport.make(store: store, brokers: nil)
        let entry = try #require(report.pipelines.first)
        #expect(entry.outboxRecords == 1)
        #expect((entry.oldestUnsentAgeSeconds ?? 0) >= 60)
        try RebuildSupport.runLive(plan, path: database.path, brokers: brokers)
        var after = high
        after[3] += 1
        #expect(try Self.highWatermarks(brokers: brokers) == after, "the pending record is produced once")
        #expect(try StatusReport.make(store: store, brokers: nil).pipelines.first?.outboxRecords == 0)
    }
}
