import Foundation
import KafkaClient
import PostgresViews
import ProjectorTestSupport
import ProjectorTesting
import Testing

/// The read API over a PostgreSQL store, end to end: `run --db postgres://… --http` serves it
/// beside /metrics, and `serve --db postgres://…` from a process of its own.
@Suite("read API on PostgreSQL, end to end", .enabled(if: TestPostgres.isEnabled))
struct PostgresServeTests {
    @Test("run --http and serve on PostgreSQL answer a produced event's row with its token, the same JSON from both")
    func runAndServeOnPostgres() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("orders", partitions: 3)
        let directory = try TemporaryDatabase()
        let location = try TestPostgres.newSchema(prefix: "serve")
        let db = ["--db", try #require(TestPostgres.url), "--db-schema", location.schema]
        let worker = try ServedWorker(
            ["run", "pipelines/order_summary.yaml", "--brokers", fixture.bootstrapServers, "--group", fixture.makeGroupID(),
             "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"] + db,
            in: directory.directory)
        defer { _ = worker.stop() }
        try waitUntil(deadline: .seconds(30), "the worker's views") {
            let answer = try httpGet("http://127.0.0.1:\(worker.port)/views")
            return answer.status == 200 && ((try? answer.object())?["views"] as? [Any])?.count == 2
        }
        let served = try ServedWorker(["serve", "--pipeline", "pipelines/order_summary.yaml"] + db, in: directory.directory)
        defer { _ = served.stop() }

        let events = directory.path(named: "events.jsonl")
        try Data((String(decoding: ReadYourWritesTests.created("o-pg"), as: UTF8.self) + "\n").utf8).write(to: URL(fileURLWithPath: events))
        let produced = try ProjectorExecutable.run(["produce", "--brokers", fixture.bootstrapServers, "--topic", "orders",
                                                    "--key-path", "$.data.orderId", events])
        #expect(produced.status == 0, "\(produced.stderr)")
        let token = produced.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        var bodies: [String] = []
        for port in [worker.port, served.port] {
            let answer = try httpGet("http://127.0.0.1:\(port)/views/order_summary/rows/o-pg",
                                     headers: ["Projector-Min-Position": token, "Prefer": "wait=20"])
            #expect(answer.status == 200, "\(answer.text)")
            #expect(try answer.object()["status"] as? String == "created")
            bodies.append(answer.text)
            let page = try httpGet("http://127.0.0.1:\(port)/views/order_summary/rows?status=eq.created&order=total.desc")
            #expect(page.status == 200, "\(page.text)")
        }
        #expect(bodies[0] == bodies[1])
    }
}
