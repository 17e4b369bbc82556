import Foundation
import KafkaClient
import ProjectorTestSupport
import ProjectorTesting
import ProjectorTools
import Synchronization
import Testing

/// Read-your-writes end to end: `projector run --http` on the mock cluster applies a background
/// stream while a client produces an event and reads its effect with the producer's token.
@Suite("read your writes over HTTP, end to end")
struct ReadYourWritesTests {
    /// An OrderCreated event for a new order of the loop.
    static func created(_ order: String) -> [UInt8] {
        Array(#"{"eventId":"\#(order)","eventType":"OrderCreated","timestamp":"2026-12-01T00:00:00Z","version":2,"data":{"orderId":"\#(order)","customerId":"c-ryw","totalAmount":1.5,"currency":"EUR","items":[]}}"#.utf8)
    }

    /// The offsets of an answer's `Projector-Position` header (none without one).
    static func position(of answer: HTTPAnswer) -> [String: [Int32: Int64]] {
        answer.headers["projector-position"].flatMap { try? KafkaPosition(token: $0).offsets } ?? [:]
    }

    @Test("produce then read with the producer's token: never stale, while the worker applies a background stream; reads without it count how often they would be")
    func readYourWrites() throws {
        let iterations = Int(ProcessInfo.processInfo.environment["PROJECTOR_RYW_ITERATIONS"] ?? "") ?? 200
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("orders", partitions: 3)
        let directory = try TemporaryDatabase()
        let publisher = try EventPublisher(brokers: fixture.bootstrapServers)
        _ = try publisher.publish(DemoStream(count: 400_000).lazy.filter { $0.topic == "orders" }.prefix(5_000))
        let worker = try ServedWorker(
            ["run", "pipelines/order_summary.yaml", "--brokers", fixture.bootstrapServers, "--db", directory.path,
             "--group", fixture.makeGroupID(), "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"],
            in: directory.directory)
        defer { _ = worker.stop() }

        // The background stream keeps the worker busy for the whole loop, at most `maxLag` events
        // ahead of it: the mock cluster keeps only ~5 MiB (~23,000 of these events) per partition,
        // and a worker slowed further behind (a loaded machine, a session timeout) would find the
        // records it had not read deleted, an event of the loop among them (librdkafka resets to
        // the new log start: "Offset out of range").
        let maxLag = 15_000
        let views = "http://127.0.0.1:\(worker.port)/views/order_summary/rows?limit=1"
        let stop = Atomic<Bool>(false)
        let streamer = Thread {
            var events = DemoStream(count: 400_000).lazy.filter { $0.topic == "orders" }.dropFirst(5_000).makeIterator()
            var published = 5_000
            while !stop.load(ordering: .relaxed) {
                let applied = (try? httpGet(views)).map { Self.position(of: $0)["orders"]?.values.reduce(0, +) ?? 0 } ?? 0
                if published - Int(applied) > maxLag {
                    Thread.sleep(forTimeInterval: 0.02)
                    continue
                }
                var chunk: [DemoEvent] = []
                while chunk.count < 500, let event = events.next() { chunk.append(event) }
                if chunk.isEmpty { return }
                if (try? publisher.publish(chunk)) != nil { published += chunk.count }
            }
        }
        streamer.start()
        defer { stop.store(true, ordering: .relaxed) }

        var configuration = KafkaProducerConfiguration(bootstrapServers: fixture.bootstrapServers)
        configuration.isIdempotenceEnabled = true
        let producer = try KafkaProducer(configuration: configuration)
        let base = "http://127.0.0.1:\(worker.port)/views/order_summary/rows/"
        var staleWithToken = 0
        var staleWithout = 0
        var failures: [String] = []
        for iteration in 0 ..< iterations {
            let order = "ryw-\(iteration)"
            try producer.send(KafkaProducerMessage(topic: "orders", key: Array(order.utf8), value: Self.created(order)))
            try producer.flush(timeout: .seconds(30))
            let reports = try producer.pollDeliveryReports()
            let delivered = reports.allSatisfy(\.isDelivered)
            try #require(delivered, "\(reports)")
            let token = producer.deliveredPosition.token

            if try httpGet(base + order).status != 200 { staleWithout += 1 }
            let answer = try httpGet(base + order, headers: ["Projector-Min-Position": token, "Prefer": "wait=20"])
            if answer.status == 404 {
                staleWithToken += 1
                // What the server saw, and whether the row came later: a position judged reached too
                // early, or an event that never made a row.
                let again = try httpGet(base + order, headers: ["Projector-Min-Position": token, "Prefer": "wait=20"])
                failures.append("\(order): 404 with token \(token) (\((try? KafkaPosition(token: token))?.offsets ?? [:])) at position "
                    + "\(Self.position(of: answer)): \(answer.text); read again: \(again.status) at \(Self.position(of: again))")
            }
            if answer.status != 200 && answer.status != 404 { failures.append("\(order): \(answer.status) \(answer.text)") }
            if answer.status == 200 && ((try? answer.object())?["order_id"] as? String) != order { failures.append("\(order): \(answer.text)") }
        }
        stop.store(true, ordering: .relaxed)
        print("read-your-writes: \(iterations) iterations; stale with the token: \(staleWithToken); "
            + "stale without it: \(staleWithout) (\(String(format: "%.1f", 100 * Double(staleWithout) / Double(iterations)))%)")
        // The worker's log says whether the group rebalanced or a batch was overtaken meanwhile.
        #expect(staleWithToken == 0, "the worker's log ends: \(worker.errorOutput.split(separator: "\n").filter { !$0.hasPrefix("%") }.suffix(20))")
        #expect(failures.isEmpty, "\(failures.prefix(3))")
    }

    @Test("projector produce prints its token; projector serve reads the store read-only and honours it")
    func produceThenServe() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("orders", partitions: 3)
        let directory = try TemporaryDatabase()
        let worker = try ServedWorker(
            ["run", "pipelines/order_summary.yaml", "--brokers", fixture.bootstrapServers, "--db", directory.path,
             "--group", fixture.makeGroupID(), "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"],
            in: directory.directory)
        defer { _ = worker.stop() }
        try waitUntil(deadline: .seconds(30), "the worker's store") { FileManager.default.fileExists(atPath: directory.path) }
        let served = try ServedWorker(["serve", "--db", directory.path], in: directory.directory)
        defer { _ = served.stop() }

        let events = directory.path(named: "events.jsonl")
        try Data((String(decoding: Self.created("o-serve"), as: UTF8.self) + "\n").utf8).write(to: URL(fileURLWithPath: events))
        let produced = try ProjectorExecutable.run(["produce", "--brokers", fixture.bootstrapServers, "--topic", "orders",
                                                    "--key-path", "$.data.orderId", events])
        #expect(produced.status == 0, "\(produced.stderr)")
        let token = produced.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let position = try KafkaPosition(token: token)
        #expect(position.offsets["orders"]?.count == 1)

        let answer = try httpGet("http://127.0.0.1:\(served.port)/views/order_summary/rows/o-serve",
                                 headers: ["Projector-Min-Position": token, "Prefer": "wait=20"])
        #expect(answer.status == 200, "\(answer.text)")
        #expect(try answer.object()["status"] as? String == "created")
        let views = try httpGet("http://127.0.0.1:\(served.port)/views").object()["views"] as? [[String: Any]]
        #expect(views?.compactMap { $0["name"] as? String } == ["customer_stats", "order_summary"])
    }
}
