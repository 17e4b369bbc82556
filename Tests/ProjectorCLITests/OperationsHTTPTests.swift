import Foundation
import KafkaClient
import ProjectorTestSupport
import ProjectorTesting
import ProjectorTools
import ProjectorModel
import Testing
import Views

/// `projector run --http` end to end: real HTTP requests against the built binary running on the
/// mock cluster; `/metrics` checked by a strict Prometheus text parser and `promtool check metrics`.
@Suite("projector run --http, end to end")
struct OperationsHTTPTests {
    /// A mock cluster with a 3-partition `orders` topic and a worker's database.
    struct Setup {
        let fixture: MockClusterFixture
        let orders: [DemoEvent]
        let directory: TemporaryDatabase
        let group: String

        init(events: Int) throws {
            fixture = try MockClusterFixture(brokerCount: 1)
            try fixture.cluster.createTopic("orders", partitions: 3)
            orders = DemoStream(count: events).filter { $0.topic == "orders" }
            directory = try TemporaryDatabase()
            group = fixture.makeGroupID()
        }

        func publish(_ events: some Sequence<DemoEvent>) throws {
            _ = try EventPublisher(brokers: fixture.bootstrapServers).publish(Array(events))
        }

        func start(_ extra: [String] = []) throws -> ServedWorker {
            try ServedWorker(
                ["run", "pipelines/order_summary.yaml", "--brokers", fixture.bootstrapServers, "--db", directory.path,
                 "--group", group, "--busy-timeout", "300", "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"]
                    + extra,
                in: URL(fileURLWithPath: directory.path).deletingLastPathComponent())
        }

        /// The store's checkpoints and stored counters, read by another connection.
        func stored() throws -> (next: [String: Int64], counters: [String: Int64]) {
            let store = try SQLiteViewStore(path: directory.path, configuration: .init(isReadOnly: true))
            let next = try store.checkpoints(pipeline: "order_summary").reduce(into: [:]) { $0["\($1.topic)/\($1.partition)"] = $1.nextOffset }
            return (next, try store.counters(pipeline: "order_summary"))
        }

        /// Each partition's high watermark, asked of the broker.
        func highWatermarks() throws -> [String: Int64] {
            let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: fixture.bootstrapServers))
            defer { try? consumer.close() }
            var result: [String: Int64] = [:]
            for partition in Int32(0) ..< 3 {
                result["orders/\(partition)"] = try consumer.watermarks(KafkaTopicPartition(topic: "orders", partition: partition),
                                                                         timeout: .seconds(10)).high
            }
            return result
        }
    }

    static func expectClean(_ worker: ServedWorker) throws {
        let (status, body) = try worker.get("/metrics")
        #expect(status == 200)
        let check = try promtoolCheck(body)
        #expect(check.status == 0 && check.output.isEmpty, "promtool check metrics: \(check.output)")
    }

    static func perPartition(_ metrics: [PrometheusSample], _ name: String) -> [String: Int64] {
        metrics.named(name).reduce(into: [:]) { $0["\($1.labels["topic"]!)/\($1.labels["partition"]!)"] = Int64($1.value) }
    }

    @Test("counters equal what was applied; lag is high watermark minus checkpoint while a locked store stalls the worker, 0 after; idle is not stall; /readyz and /healthz say why")
    func metricsFollowTheWorker() throws {
        let setup = try Setup(events: 4_000)
        let half = setup.orders.count / 2
        try setup.publish(setup.orders.prefix(half))
        let worker = try setup.start(["--stall-after", "1", "--ready-max-lag-seconds", "0.5"])
        defer { _ = worker.stop() }

        // Caught up: every partition idle (not stall), lag 0, counters equal the stored ones.
        var metrics: [PrometheusSample] = []
        try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(50), "the worker to catch up and turn idle") {
            metrics = try worker.metrics()
            return metrics.sum("projector_checkpoint_offset") == Double(half)
                && metrics.partitionStatuses.count == 3 && metrics.partitionStatuses.values.allSatisfy { $0 == "idle" }
        }
        var stored = try setup.stored()
        #expect(Self.perPartition(metrics, "projector_checkpoint_offset") == stored.next)
        #expect(metrics.sum("projector_events_total") == Double(half))
        for outcome in ["applied", "filtered", "deduplicated", "skipped", "dead_lettered"] {
            #expect(metrics.sum("projector_events_total", ["outcome": outcome]) == Double(stored.counters[outcome] ?? 0), "\(outcome)")
        }
        #expect(metrics.sum("projector_events_total", ["outcome": "ignored_type"]) == Double(stored.counters["ignored_unknown_type"] ?? 0))
        #expect(metrics.sum("projector_events_total", ["outcome": "applied"]) > 0)
        #expect(metrics.sum("projector_lag_records") == 0 && metrics.sum("projector_lag_seconds") == 0)
        #expect(metrics.sum("projector_batches_total") == metrics.sum("projector_batch_duration_seconds_count"))
        #expect(metrics.sum("projector_assigned_partitions") == 3)
        #expect(metrics.named("projector_build_info").count == 1)
        #expect(try worker.probe("/readyz").status == 200)
        #expect(try worker.probe("/healthz").status == 200)
        try Self.expectClean(worker)

        // Another process holds the write lock: the worker falls behind on what comes next.
        let lock = try StoreLock(setup.directory.path)
        try setup.publish(setup.orders.dropFirst(half))
        let highs = try setup.highWatermarks()
        try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(50), "the lag to reach the new records and a partition to stall") {
            metrics = try worker.metrics()
            return metrics.sum("projector_lag_records") == Double(setup.orders.count - half)
                && metrics.partitionStatuses.values.contains("stall")
        }
        let checkpoints = Self.perPartition(metrics, "projector_checkpoint_offset")
        #expect(checkpoints == stored.next, "the checkpoint does not move while the store is locked")
        let lags = Self.perPartition(metrics, "projector_lag_records")
        for (partition, high) in highs {
            #expect(lags[partition] == high - (checkpoints[partition] ?? 0), "lag of \(partition)")
            if lags[partition]! > 0 {
                #expect(metrics.partitionStatuses[partition] == "stall", "\(partition) has records waiting")
                #expect(metrics.sum("projector_lag_seconds", ["partition": String(partition.split(separator: "/")[1])]) > 0)
            }
        }
        var ready = try worker.probe("/readyz")
        try waitUntil(deadline: .seconds(10), pollInterval: .milliseconds(50), "the waiting records to age past --ready-max-lag-seconds") {
            ready = try worker.probe("/readyz")
            return ready.status == 503
        }
        #expect("\(ready.json)".contains("behind"), "\(ready.json)")
        var live = try worker.probe("/healthz")
        try waitUntil(deadline: .seconds(10), pollInterval: .milliseconds(50), "a wedged loop to fail the liveness probe") {
            live = try worker.probe("/healthz")
            return live.status == 503
        }
        #expect("\(live.json)".contains("has not polled"), "\(live.json)")
        try Self.expectClean(worker)

        // Released: it catches up, counts everything once, and is ready again.
        try lock.release()
        try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(50), "the worker to catch up after the lock") {
            metrics = try worker.metrics()
            return metrics.sum("projector_checkpoint_offset") == Double(setup.orders.count) && metrics.sum("projector_lag_records") == 0
                && !metrics.partitionStatuses.values.contains("stall")
        }
        stored = try setup.stored()
        #expect(metrics.sum("projector_events_total") == Double(setup.orders.count))
        #expect(metrics.sum("projector_events_total", ["outcome": "applied"]) == Double(stored.counters["applied"] ?? 0))
        #expect(metrics.sum("projector_lag_seconds") == 0)
        try waitUntil(deadline: .seconds(10), pollInterval: .milliseconds(50), "/readyz to pass again") {
            try worker.probe("/readyz").status == 200
        }
        #expect(worker.stop() == 0, "SIGTERM drains and exits 0: \(worker.errorOutput)")
        let log = worker.errorOutput
        #expect(log.contains("is stall"), "status changes are logged: \(log)")
        #expect(log.contains("events in") && log.contains("applied \(stored.counters["applied"] ?? 0),"), "\(log)")
    }

    @Test("SIGTERM during a batch: the server keeps answering while the worker drains, the batch commits, exit 0")
    func serverStopsAfterTheWorkers() throws {
        let setup = try Setup(events: 600)
        let half = setup.orders.count / 2
        try setup.publish(setup.orders.prefix(half))
        let worker = try setup.start()
        defer { _ = worker.stop() }
        try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(50), "the worker to apply the first half") {
            try worker.metrics().sum("projector_checkpoint_offset") == Double(half)
        }
        // The next batch waits for the store lock; SIGTERM arrives while it is in flight.
        let lock = try StoreLock(setup.directory.path)
        try setup.publish(setup.orders.dropFirst(half))
        try waitUntil(deadline: .seconds(30), pollInterval: .milliseconds(50), "the worker to fetch the second half") {
            try worker.metrics().sum("projector_lag_records") > 0
        }
        worker.process.terminate()
        // Draining: the worker is blocked on the lock, and the server, which stops after it, still answers.
        for _ in 0 ..< 5 {
            #expect(try worker.get("/metrics").status == 200)
            #expect(worker.process.isRunning, "the worker waits for the lock before it exits")
        }
        try lock.release()
        worker.process.waitUntilExit()
        #expect(worker.process.terminationStatus == 0, "\(worker.errorOutput)")
        let committed = try setup.stored().next.values.reduce(0, +)
        #expect(committed > Int64(half), "the batch in flight was committed")
        #expect(worker.errorOutput.contains("pipeline order_summary: \(committed) events in"), "\(worker.errorOutput)")
    }

    @Test("/readyz is 503 while the worker waits for its assignment, 200 once assigned and caught up")
    func readyAfterAssignment() throws {
        let setup = try Setup(events: 300)
        try setup.publish(setup.orders)
        // A member of the same group that stops polling holds the rebalance up to its
        // max.poll.interval.ms: the worker's join cannot complete until it polls again.
        var configuration = KafkaConsumerConfiguration(bootstrapServers: setup.fixture.bootstrapServers, groupID: setup.group)
        configuration.sessionTimeout = .seconds(6)
        configuration.heartbeatInterval = .milliseconds(500)
        configuration.maxPollInterval = .seconds(30)
        let member = try KafkaConsumer(configuration: configuration)
        try member.subscribe(topics: ["orders"])
        try waitUntil(deadline: .seconds(30), pollInterval: .zero, "the test member's assignment") {
            try member.poll(maxMessages: 1, timeout: .milliseconds(100)) { _ in }
            return try !member.assignment().isEmpty
        }
        let worker = try setup.start(["-X", "statistics.interval.ms=1000"])
        defer { _ = worker.stop() }
        let waiting = try worker.probe("/readyz")
        #expect(waiting.status == 503)
        #expect("\(waiting.json)".contains("assignment") || "\(waiting.json)".contains("started"), "\(waiting.json)")
        try member.close()
        try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(50), "/readyz to pass") {
            try worker.probe("/readyz").status == 200
        }
        #expect(try worker.metrics().sum("projector_rebalances_total") >= 1)
        // librdkafka's statistics, every statistics.interval.ms: its fetch queues and broker round trips.
        var metrics: [PrometheusSample] = []
        try waitUntil(deadline: .seconds(30), pollInterval: .milliseconds(100), "librdkafka's statistics in /metrics") {
            metrics = try worker.metrics()
            return metrics.named("projector_kafka_fetch_queue_messages").count == 3
                && !metrics.named("projector_kafka_broker_rtt_seconds").isEmpty
        }
        #expect(metrics.named("projector_kafka_broker_rtt_seconds").allSatisfy { $0.value >= 0 && $0.value < 10 })
        try Self.expectClean(worker)
    }
}

extension OperationsHTTPTests {
    @Test("a checkpoint moved back by another process shows rewind; projector reset --to-offset (ours) does not")
    func rewindOnlyWhenNotOurs() throws {
        let setup = try Setup(events: 3_000)
        let third = setup.orders.count / 3
        try setup.publish(setup.orders.prefix(third))
        let worker = try setup.start(["--stall-after", "2"])
        defer { _ = worker.stop() }
        var metrics: [PrometheusSample] = []
        func caughtUp(_ count: Int) throws -> Bool {
            metrics = try worker.metrics()
            return metrics.sum("projector_checkpoint_offset") == Double(count) && metrics.sum("projector_lag_records") == 0
        }
        try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(50), "the worker to catch up") { try caughtUp(third) }

        // Ours: reset rebuilds to earlier offsets and swaps; the worker follows without a rewind.
        let reset = try ProjectorExecutable.run([
            "reset", "pipelines/order_summary.yaml", "--db", setup.directory.path, "--brokers", setup.fixture.bootstrapServers,
            "--to-offset", "orders:0:1,orders:1:1,orders:2:1", "--yes",
        ])
        #expect(reset.status == 0, "\(reset.stderr)")
        try setup.publish(setup.orders.dropFirst(third).prefix(third))
        var rewinds = 0
        try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(50), "the worker to replay after the reset") {
            let done = try caughtUp(2 * third)
            rewinds += metrics.partitionStatuses.values.filter { $0 == "rewind" }.count
            return done
        }
        #expect(worker.errorOutput.contains("rebuilt and swapped in"), "the worker followed the reset: \(worker.errorOutput)")
        #expect(rewinds == 0, "a reset of ours is not a rewind")

        // Not ours: another process moves partition 0's checkpoint back in the store.
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [setup.directory.path, #"UPDATE "_projector_checkpoints" SET "next_offset" = 0 WHERE "partition" = 0"#]
        try sqlite.run()
        sqlite.waitUntilExit()
        try setup.publish(setup.orders.dropFirst(2 * third))
        try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(50), "partition 0 to show rewind") {
            metrics = try worker.metrics()
            return metrics.partitionStatuses["orders/0"] == "rewind"
        }
        #expect(metrics.partitionStatuses["orders/1"] != "rewind" && metrics.partitionStatuses["orders/2"] != "rewind")
        #expect(worker.errorOutput.contains("partition 0 is rewind"), "logged on change: \(worker.errorOutput)")
    }
}
