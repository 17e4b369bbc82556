import Foundation
import KafkaClient
import PostgresViews
import Projector
import ProjectorTestSupport
import ProjectorTesting
import Testing

/// Three `projector run` processes in one group on one PostgreSQL store, a stream arriving,
/// members SIGKILLed and restarted at random, one SIGSTOPped past its session timeout and then
/// SIGCONTed: the views must EQUAL the independent reference, every checkpoint at the high watermark.
@Suite("rebalance under load on PostgreSQL", .enabled(if: TestPostgres.isEnabled))
struct PostgresRebalanceTests {
    @Test("three workers on PostgreSQL, SIGKILLed and restarted at random, one stalled past its session timeout")
    func churnOnPostgres() throws {
        guard let url = TestPostgres.url else { throw TestPostgres.Missing() }
        let schema = try TestPostgres.newSchema(prefix: "churn").schema
        let stream = try LedgerStream(partitions: 6, database: { _ in "\(url)#\(schema)" })
        let group = stream.fixture.makeGroupID()
        try stream.publish(1_000)
        let kills = isLongRun ? 30 : 10
        let flow = stream.publishInBackground(isLongRun ? 30_000 : 6_000, chunks: kills * 2)
        var workers: [LedgerStream.Worker] = []
        var started = 0
        func startOne() throws {
            workers.append(try stream.start("member\(started)", group: group, batchSize: 50))
            started += 1
        }
        for _ in 0 ..< 3 { try startOne() }
        try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(20), "the group to apply a batch") { stream.appliedCount > 0 }
        for kill in 0 ..< kills {
            randomPause(upTo: 1_000)
            for worker in workers where !worker.isRunning {
                Issue.record("a member failed: status \(worker.process.terminationStatus): \(worker.errorOutput.suffix(2_000))")
            }
            workers.removeAll { !$0.isRunning }
            if workers.isEmpty { try startOne() }
            let victim = workers.remove(at: Int.random(in: 0 ..< workers.count))
            if kill == kills / 2 {
                // A zombie: stopped past the 6 s session timeout while the others take its
                // partitions over and claim them (a higher epoch), then woken up.
                victim.signal(SIGSTOP)
                while workers.count < 2 { try startOne() }
                usleep(9_000_000)
                victim.signal(SIGCONT)
                usleep(2_000_000)
                print("reliability: postgres zombie rolled back a stale batch = \(victim.errorOutput.contains("rolled back"))")
            }
            victim.signal(SIGKILL)
            victim.waitForExit()
            try startOne()
        }
        try flow.wait()
        while workers.count < 3 { try startOne() }
        try stream.waitUntilAllApplied(deadline: .seconds(120))
        for worker in workers { worker.expectCleanStop() }
        let problems = try stream.differences()
        #expect(problems.isEmpty, "\(problems)")
        reportScenario("postgres churn", faults: kills, events: stream.publishedCount, problems: problems)
    }
}
