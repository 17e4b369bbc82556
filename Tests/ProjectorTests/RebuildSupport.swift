import ProjectorTools
import Foundation
import KafkaClient
import Pipelines
import Projector
import ProjectorTesting
import Synchronization
import Testing
import Views
import ProjectorModel

/// Events, producers, live workers and view comparisons for the rebuild, verify and reset tests.
enum RebuildSupport {
    /// The package root (three levels above this file).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// One message to produce.
    struct Event: Sendable {
        var topic: String
        var key: String?
        var value: String?
        var partition: Int32? = nil
        var timestamp: Int64? = nil
    }

    static func plan(_ name: String) throws -> Plan {
        Plan(try Pipeline.load(path: root.appendingPathComponent("pipelines/\(name).yaml").path))
    }

    static func plan(yaml: String) throws -> Plan {
        Plan(try Pipeline(yaml: yaml, file: "test.yaml"))
    }

    /// A ledger: per account the sum of its deposits, and a `~total` row that must always equal
    /// the sum of the account rows (an invariant across rows a reader can check).
    static func ledger(version: Int = 1, name: String = "ledger", topic: String = "deposits") throws -> Plan {
        try plan(yaml: """
            name: \(name)
            version: \(version)
            source:
              topics: [\(topic)]
              type: $.eventType
              key: $.data.account
            views:
              balances:
                key: [id]
                columns: {id: text, amount: integer, events: integer\(version > 1 ? ", largest: integer" : "")}
            on:
              Deposited:
                - upsert: balances
                  key: {id: $key}
                  set: {amount: amount + $.data.amount, events: events + 1\(version > 1 ? ", largest: \"max(largest, $.data.amount)\"" : "")}
                - upsert: balances
                  key: {id: "'~total'"}
                  set: {amount: amount + $.data.amount, events: events + 1}
            """)
    }

    /// Deposit `index`: account `a-<index % 37>`, amount `index % 100 + 1`.
    static func deposit(_ index: Int, topic: String = "deposits", timestamp: Int64? = nil) -> Event {
        let account = "a-\(index % 37)"
        return Event(topic: topic, key: account,
                     value: #"{"eventId":"d-\#(index)","eventType":"Deposited","data":{"account":"\#(account)","amount":\#(index % 100 + 1)}}"#,
                     timestamp: timestamp)
    }

    /// The sample events of `pipelines/samples` for `topics`, then `generated` DemoStream events,
    /// and, on `inventory`, tombstones for two SKUs.
    static func events(topics: [String], generated: Int) throws -> [Event] {
        var events: [Event] = []
        for topic in topics {
            let path = root.appendingPathComponent("pipelines/samples/\(topic).jsonl").path
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") where !line.allSatisfy(\.isWhitespace) {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let data = object["data"] as? [String: Any] ?? [:]
                let preferred = topic == "inventory" ? ["sku", "orderId"] : ["orderId", "sku", "customerId"]
                let key = preferred.lazy.compactMap { data[$0] as? String }.first ?? (object["eventId"] as? String ?? "")
                events.append(Event(topic: topic, key: key, value: String(line)))
            }
        }
        for event in DemoStream(count: generated) where topics.contains(event.topic) {
            events.append(Event(topic: event.topic, key: event.key, value: event.value))
        }
        if topics.contains("inventory") {
            events.append(Event(topic: "inventory", key: "SKU-PINK", value: nil))
            events.append(Event(topic: "inventory", key: "SKU-GOLD", value: nil))
        }
        return events
    }

    /// Produces every event and waits for every delivery.
    static func produce(_ events: [Event], brokers: String) throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: brokers)
        configuration.linger = .milliseconds(5)
        let producer = try KafkaProducer(configuration: configuration)
        for event in events {
            let message = KafkaProducerMessage(
                topic: event.topic, partition: event.partition, key: event.key.map { Array($0.utf8) },
                value: event.value.map { Array($0.utf8) }, timestampMilliseconds: event.timestamp)
            while true {
                do {
                    try producer.send(message)
                    break
                } catch {
                    let code = error.code
                    guard code == .queueFull else { throw KafkaError(code: code, message: error.message) }
                    try check(try producer.pollDeliveryReports(timeout: .milliseconds(50)))
                }
            }
        }
        try producer.flush(timeout: .seconds(60))
        try check(try producer.pollDeliveryReports())
    }

    private static func check(_ reports: [KafkaDeliveryReport]) throws {
        for report in reports { if let error = report.error { throw error } }
    }

    /// The sum of the high watermarks of `topic`'s partitions.
    static func highWatermarks(_ topic: String, partitions: Int, brokers: String) throws -> [Checkpoint] {
        let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: brokers))
        defer { try? consumer.close() }
        return try (0 ..< Int32(partitions)).map { partition in
            Checkpoint(topic: topic, partition: partition,
                       nextOffset: try consumer.watermarks(KafkaTopicPartition(topic: topic, partition: partition), timeout: .seconds(5)).high)
        }
    }

    /// Runs a live worker to the end of its topics (a consumer group: ~3 s on the mock).
    @discardableResult
    static func runLive(_ plan: Plan, path: String, brokers: String) throws -> Worker.Progress {
        let worker = Worker(
            projection: plan, store: try SQLiteViewStore(path: path),
            configuration: WorkerConfiguration(brokers: brokers, groupID: "live-\(UUID().uuidString)", exitsAtEnd: true))
        return try worker.run(until: ShutdownSignal())
    }

    /// Rebuilds into the store at `path` with `options` tweaked by `change`.
    static func rebuild(
        _ plan: Plan, path: String, brokers: String, signal: ShutdownSignal = ShutdownSignal(),
        _ change: (inout RebuildOptions) -> Void = { _ in }
    ) throws -> Rebuild.Summary {
        var options = RebuildOptions(brokers: brokers)
        change(&options)
        return try Rebuild(projection: plan, store: try SQLiteViewStore(path: path), options: options).run(until: signal)
    }

    /// The checkpoints and the digest of every table of `plan`, in one snapshot.
    static func snapshot(_ plan: Plan, path: String) throws -> (checkpoints: [Checkpoint], digests: [ViewDigest]) {
        try SQLiteViewStore(path: path, configuration: .init(isReadOnly: true))
            .digests(ofViews: plan.views.map(\.name), pipeline: plan.name)
    }

    /// Creates a mock cluster of one broker with `topics` (name, partitions).
    static func cluster(_ topics: [(String, Int)]) throws -> MockClusterFixture {
        let fixture = try MockClusterFixture(brokerCount: 1)
        for (topic, partitions) in topics { try fixture.cluster.createTopic(topic, partitions: partitions) }
        return fixture
    }
}

/// Runs a body on its own thread (the runtime blocks in librdkafka and SQLite) and keeps its result.
final class BackgroundThread<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)

    init(_ name: String, _ body: @escaping @Sendable () throws -> Value) {
        let thread = Thread { [self] in
            let outcome = Result { try body() }
            self.result.withLock { $0 = outcome }
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Waits until the body returned and gives its result.
    func join(deadline: Duration = .seconds(60)) throws -> Value {
        try waitUntil(deadline: deadline, "thread to finish") { result.withLock { $0 != nil } }
        return try result.withLock { $0! }.get()
    }
}
