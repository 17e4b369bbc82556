import Foundation
import KafkaClient
import ProjectorTestSupport
import ProjectorTesting
import ProjectorTools
import Testing
import Views

/// `projector status`: counters per pipeline, partition status with --brokers, --watch.
@Suite("projector status, counters and partition status")
struct StatusCommandTests {
    @Test("status --json has the stored counters and, with --brokers, lag and status; --watch turns a caught-up partition idle")
    func countersAndStatus() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("orders", partitions: 2)
        // Types order_summary has no handler for (ignored); one spelled with a JSON escape counts under its name.
        let unhandled = [#"{"eventType":"OrderNoted","data":{"orderId":"o-x"}}"#, #"{"eventType":"Order\u004Eoted","data":{"orderId":"o-x"}}"#,
                         #"{"eventType":"OrderArchived","data":{"orderId":"o-x"}}"#].map { DemoEvent(topic: "orders", key: "o-x", value: $0) }
        let orders = DemoStream(count: 600).filter { $0.topic == "orders" } + unhandled
        _ = try EventPublisher(brokers: fixture.bootstrapServers).publish(orders)
        let directory = try TemporaryDatabase()
        let run = try ProjectorExecutable.run(["run", "pipelines/order_summary.yaml", "--brokers", fixture.bootstrapServers,
                                               "--db", directory.path, "--group", fixture.makeGroupID(), "--exit-at-end"])
        #expect(run.status == 0, "\(run.stderr)")
        let stored = try SQLiteViewStore(path: directory.path, configuration: .init(isReadOnly: true)).counters(pipeline: "order_summary")

        let status = try ProjectorExecutable.run(["status", "--db", directory.path, "--brokers", fixture.bootstrapServers, "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let entry = try #require((object["pipelines"] as? [[String: Any]])?.first)
        let counters = try #require(entry["counters"] as? [String: Int])
        #expect(counters["applied"].map(Int64.init) == stored["applied"])
        #expect(counters["ignored_type"].map(Int64.init) == (stored["ignored_unknown_type"] ?? 0))
        #expect(counters.values.reduce(0, +) == orders.count)
        #expect(counters["ignored_type"] == 3)
        #expect(entry["ignored_types"] as? [String: Int] == ["OrderNoted": 2, "OrderArchived": 1], "\(entry)")
        let plain = try ProjectorExecutable.run(["status", "--db", directory.path])
        #expect(plain.stdout.contains("ignored types: OrderNoted 2, OrderArchived 1"), "\(plain.stdout)")
        #expect(run.stderr.contains("applied \(counters["applied"] ?? -1),"), "the run's summary counts the same: \(run.stderr)")
        let checkpoints = try #require(entry["checkpoints"] as? [[String: Any]])
        #expect(checkpoints.count == 2)
        for checkpoint in checkpoints {
            #expect(checkpoint["lag"] as? Int == 0)
            #expect(checkpoint["status"] as? String == "ok", "one sample cannot see a window")
        }

        let (watch, stdout, _) = try ProjectorExecutable.start(
            ["status", "--db", directory.path, "--brokers", fixture.bootstrapServers, "--watch", "--interval", "0.2", "--stall-after", "0.5"],
            in: URL(fileURLWithPath: directory.path).deletingLastPathComponent(), label: "watch")
        defer { if watch.isRunning { kill(watch.processIdentifier, SIGKILL) } }
        try waitUntil(deadline: .seconds(30), pollInterval: .milliseconds(50), "--watch to show both partitions idle") {
            let text = (try? String(contentsOf: stdout, encoding: .utf8)) ?? ""
            guard let last = text.components(separatedBy: "order_summary v").last else { return false }
            return last.components(separatedBy: "idle").count - 1 == 2
        }
        let text = try String(contentsOf: stdout, encoding: .utf8)
        #expect(!text.contains("\u{1B}["), "no terminal: no redraw codes")
        #expect(text.contains("events: applied \(counters["applied"] ?? -1)"), "\(text)")
        #expect(!text.contains("stall"))
        watch.terminate()
        watch.waitUntilExit()
        #expect(watch.terminationStatus == 0 && watch.terminationReason == .exit, "SIGTERM ends --watch cleanly")
    }
}
