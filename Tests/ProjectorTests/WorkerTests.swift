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

/// The worker against the mock cluster: multi-partition topics, keys interleaved, real SQLite files.
@Suite("Worker")
struct WorkerTests {
    /// The sample events of `pipelines/samples/<topic>.jsonl`, keyed by aggregate id (sku first on inventory).
    static func samples(_ topic: String) throws -> [DemoEvent] {
        let url = ProjectorExecutable.repositoryRoot.appendingPathComponent("pipelines/samples/\(topic).jsonl")
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let data = object["data"] as? [String: Any]
            let key = (topic == "inventory" ? data?["sku"] as? String : nil) ?? data?["orderId"] as? String ?? ""
            return DemoEvent(topic: topic, key: key, value: String(line))
        }
    }

    /// Worker settings for tests: stop at the end, quick group timings.
    static func configuration(_ fixture: MockClusterFixture, maxBatchMessages: Int = 10_000) -> WorkerConfiguration {
        WorkerConfiguration(
            brokers: fixture.bootstrapServers, groupID: fixture.makeGroupID(),
            properties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"],
            exitsAtEnd: true, maxBatchMessages: maxBatchMessages)
    }

    static func plan(_ name: String) throws -> Plan {
        Plan(try Pipeline.load(path: ProjectorExecutable.repositoryRoot.appendingPathComponent("pipelines/\(name).yaml").path))
    }

    @Test("sample events through Kafka give the golden views", arguments: ["order_summary", "inventory", "order_saga", "customer_stats"])
    func samplesGiveGoldenViews(_ pipeline: String) throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        let plan = try Self.plan(pipeline)
        for topic in plan.topics { try fixture.cluster.createTopic(topic, partitions: 3) }
        _ = try EventPublisher(brokers: fixture.bootstrapServers).publish(try plan.topics.flatMap(Self.samples))
        let database = try TemporaryDatabase()
        let store = try SQLiteViewStore(path: database.path)
        // Batches of 2 messages: many transactions, checkpoints advanced between them.
        let worker = Worker(projection: plan, store: store, configuration: Self.configuration(fixture, maxBatchMessages: 2))
        let progress = try worker.run(until: ShutdownSignal())
        #expect(progress.batches > 1)
        for (view, rows) in try ExpectedRows.load(pipeline) {
            try ExpectedRows.check(store, view: view, expected: rows)
        }
        let next = try store.checkpoints(pipeline: plan.name).reduce(0) { $0 + $1.nextOffset }
        #expect(next == Int64(try plan.topics.flatMap(Self.samples).count), "checkpoints at the high watermarks")
    }

    @Test("a restarted worker continues from its checkpoints and applies nothing twice")
    func restartContinuesFromCheckpoints() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("orders", partitions: 4)
        let publisher = try EventPublisher(brokers: fixture.bootstrapServers)
        let stream = Array(DemoStream(count: 6_000).filter { $0.topic == "orders" })
        let half = stream.count / 2
        _ = try publisher.publish(stream[..<half])
        let database = try TemporaryDatabase()
        let plan = try Self.plan("order_summary")
        _ = try Worker(projection: plan, store: try SQLiteViewStore(path: database.path),
                       configuration: Self.configuration(fixture, maxBatchMessages: 500)).run(until: ShutdownSignal())
        _ = try publisher.publish(stream[half...])
        // A new group: the offsets come from the store, not from Kafka.
        let second = try Worker(projection: plan, store: try SQLiteViewStore(path: database.path),
                                configuration: Self.configuration(fixture, maxBatchMessages: 500)).run(until: ShutdownSignal())
        #expect(second.messages == stream.count - half)

        let reference = try TemporaryDatabase()
        _ = try Worker(projection: plan, store: try SQLiteViewStore(path: reference.path),
                       configuration: Self.configuration(fixture)).run(until: ShutdownSignal())
        let live = try SQLiteViewStore(path: database.path)
        let once = try SQLiteViewStore(path: reference.path)
        #expect(try live.rows(ofView: "order_summary") == once.rows(ofView: "order_summary"))
        let orders = { (store: SQLiteViewStore) in try store.rows(ofView: "customer_stats").rows.map { $0[1] } }
        #expect(try orders(live) == orders(once), "order counts per customer: a double apply would show here")
    }

    @Test("on_error: fail commits everything before the bad event, then stops with its position")
    func failPolicyStopsAtTheBadEvent() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("orders", partitions: 1)
        let good = Array(DemoStream(count: 200).filter { $0.topic == "orders" }.prefix(10))
        let events = good[..<5] + [DemoEvent(topic: "orders", key: "o-x", value: "{not json")] + good[5...]
        _ = try EventPublisher(brokers: fixture.bootstrapServers).publish(events)
        var pipeline = try Pipeline.load(path: ProjectorExecutable.repositoryRoot.appendingPathComponent("pipelines/order_summary.yaml").path)
        pipeline.onError = .fail
        let database = try TemporaryDatabase()
        let store = try SQLiteViewStore(path: database.path)
        let worker = Worker(projection: Plan(pipeline), store: store, configuration: Self.configuration(fixture))
        let error = try #require(throws: ProjectorError.self) { try worker.run(until: ShutdownSignal()) }
        #expect(error.code == .eventFailed)
        #expect(error.message.contains("topic orders partition 0 offset 5"))
        #expect(error.message.contains("malformedJSON"))
        #expect(try store.checkpoints(pipeline: "order_summary").map(\.nextOffset) == [5])
    }

    @Test("on_error: dead-letter keeps the raw message and goes on; skip counts")
    func deadLetterAndSkipPolicies() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("orders", partitions: 2)
        let good = Array(DemoStream(count: 300).filter { $0.topic == "orders" }.prefix(40))
        let bad = [
            DemoEvent(topic: "orders", key: "o-a", value: "{not json"),
            DemoEvent(topic: "orders", key: "o-b", value: "[1,2]"),
            DemoEvent(topic: "orders", key: "o-c", value: #"{"eventId":"z","data":{}}"#),
        ]
        _ = try EventPublisher(brokers: fixture.bootstrapServers).publish(good + bad)
        for policy in [ErrorPolicy.deadLetter, .skip] {
            var pipeline = try Pipeline.load(path: ProjectorExecutable.repositoryRoot.appendingPathComponent("pipelines/order_summary.yaml").path)
            pipeline.onError = policy
            let database = try TemporaryDatabase()
            let store = try SQLiteViewStore(path: database.path)
            let progress = try Worker(projection: Plan(pipeline), store: store, configuration: Self.configuration(fixture))
                .run(until: ShutdownSignal())
            #expect(progress.messages == good.count + bad.count)
            let letters = try store.deadLetters()
            let counters = try store.counters(pipeline: "order_summary")
            if policy == .deadLetter {
                #expect(letters.count == 3)
                #expect(Set(letters.compactMap { $0.letter.value.map { String(decoding: $0, as: UTF8.self) } }) == Set(bad.map(\.value)))
                #expect(letters.allSatisfy { !$0.letter.error.isEmpty })
                #expect(counters["dead_lettered"] == 3)
            } else {
                #expect(letters.isEmpty)
                #expect(counters["skipped"] == 3)
            }
            #expect(try store.checkpoints(pipeline: "order_summary").reduce(0) { $0 + $1.nextOffset } == Int64(good.count + bad.count))
        }
    }

    @Test("a store built by another definition is refused with a hint to rebuild")
    func identityRefusal() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("orders", partitions: 1)
        let database = try TemporaryDatabase()
        let plan = try Self.plan("order_summary")
        _ = try Worker(projection: plan, store: try SQLiteViewStore(path: database.path),
                       configuration: Self.configuration(fixture)).run(until: ShutdownSignal())
        var changed = plan.pipeline
        changed.version += 1
        changed.hash = "0000"
        let worker = Worker(projection: Plan(changed), store: try SQLiteViewStore(path: database.path),
                            configuration: Self.configuration(fixture))
        let error = try #require(throws: ProjectorError.self) { try worker.run(until: ShutdownSignal()) }
        #expect(error.code == .definitionChanged)
        #expect((error.underlying as? ViewStoreError)?.code == .definitionChanged)
        #expect(error.message.contains("rebuild"))
    }
}
