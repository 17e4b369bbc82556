import ProjectorTestSupport
import Foundation
import KafkaClient
import Projector
import ProjectorTesting
import Testing

/// Rebalances under load: three `projector run` processes in one group, started and stopped
/// (SIGTERM and SIGKILL) at random moments while events flow, and a member that stalls past the
/// session timeout (SIGSTOP) and must not commit after losing its partitions. No event may be
/// applied twice or lost: the views must EQUAL the independent reference.
@Suite("rebalance under load")
struct RebalanceTests {
    enum Strategy: String, CaseIterable, Sendable {
        case eager = "range,roundrobin"
        case cooperativeSticky = "cooperative-sticky"
    }

    @Test("three workers started, SIGTERMed and SIGKILLed at random while events flow", arguments: Strategy.allCases)
    func churn(_ strategy: Strategy) throws {
        let stream = try LedgerStream(partitions: 6)
        let group = stream.fixture.makeGroupID()
        let extra = ["-X", "partition.assignment.strategy=\(strategy.rawValue)"]
        try stream.publish(1_000)
        let actions = isLongRun ? 40 : 8
        let flow = stream.publishInBackground(isLongRun ? 40_000 : 8_000, chunks: actions * 2)
        var workers: [LedgerStream.Worker] = []
        var started = 0
        var faults = 0
        func startOne() throws {
            workers.append(try stream.start("member\(started)", group: group, batchSize: 50, extra: extra))
            started += 1
        }
        for _ in 0 ..< 3 { try startOne() }
        try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(20), "the group to apply a batch") { stream.appliedCount > 0 }
        for _ in 0 ..< actions {
            randomPause(upTo: 1_500)
            workers.removeAll { !$0.isRunning && $0.process.terminationStatus == 0 }
            for worker in workers where !worker.isRunning {
                Issue.record("a member failed: status \(worker.process.terminationStatus): \(worker.errorOutput)")
            }
            workers.removeAll { !$0.isRunning }
            switch Int.random(in: 0 ..< 3) {
            case 0 where workers.count < 3, _ where workers.isEmpty:
                try startOne()
            case 1:
                let victim = workers.remove(at: Int.random(in: 0 ..< workers.count))
                victim.expectCleanStop("SIGTERM is a clean stop")
                faults += 1
            default:
                let victim = workers.remove(at: Int.random(in: 0 ..< workers.count))
                victim.signal(SIGKILL)
                victim.waitForExit()
                faults += 1
            }
        }
        try flow.wait()
        while workers.count < 3 { try startOne() }
        try stream.waitUntilAllApplied(deadline: .seconds(120))
        for worker in workers { worker.expectCleanStop() }
        let problems = try stream.differences()
        #expect(problems.isEmpty, "\(problems)")
        reportScenario("rebalance churn \(strategy)", faults: faults, events: stream.publishedCount, problems: problems)
    }

    @Test("a member stalled past the session timeout does not commit after losing its partitions", arguments: Strategy.allCases)
    func stalledMember(_ strategy: Strategy) throws {
        let stream = try LedgerStream(partitions: 4)
        let group = stream.fixture.makeGroupID()
        let extra = ["-X", "partition.assignment.strategy=\(strategy.rawValue)"]
        try stream.publish(2_000)
        let stalled = try stream.start("stalled", group: group, batchSize: 20, extra: extra)
        let healthy = try stream.start("healthy", group: group, batchSize: 20, extra: extra)
        // Both members own partitions and have applied batches (every partition has a checkpoint).
        try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(20), "both members to apply") {
            ReferenceLedger.checkpoints(database: stream.database).count == stream.partitions
        }
        // Hold the write lock so both members wait inside a batch transaction with a batch in hand,
        // then stop one of them there and let the group give its partitions to the other.
        let blocker = try FaultDatabaseTests.ExternalConnection(
            path: stream.database, statements: ".timeout 30000\nBEGIN IMMEDIATE;", directory: stream.directory, label: "blocker")
        randomPause(upTo: 300)
        usleep(200_000)
        stalled.signal(SIGSTOP)
        blocker.finish()
        try stream.publish(2_000)
        do {
            try stream.waitUntilAllApplied(deadline: .seconds(60))
        } catch {
            Issue.record("\(error); applied \(stream.appliedCount); healthy member: \(healthy.errorOutput.suffix(3_000))")
            stalled.signal(SIGCONT)
            throw error
        }
        // It wakes up believing it still owns its partitions, inside the transaction of a batch the
        // other member has applied meanwhile: the fence must roll it back.
        stalled.signal(SIGCONT)
        try stream.publish(1_000)
        try stream.waitUntilAllApplied(deadline: .seconds(60))
        let fenced = (try? waitUntil(deadline: .seconds(20), pollInterval: .milliseconds(50), "the stale batch to be fenced") {
            stalled.errorOutput.contains("rolled back") || healthy.errorOutput.contains("rolled back")
        }) != nil
        print("reliability: stalled member \(strategy): fenced batch rolled back = \(fenced)")
        // Whether the stopped member was inside a transaction (then the fence rolls it back) or in
        // a poll (then librdkafka drops its stale messages) depends on the instant; either way the
        // views below must equal the reference. ReliabilityFenceTests checks the fence itself.
        stalled.expectCleanStop("the stalled member")
        healthy.expectCleanStop("the healthy member")
        let problems = try stream.differences()
        #expect(problems.isEmpty, "\(problems)")
        reportScenario("stalled member \(strategy)", faults: 1, events: stream.publishedCount, problems: problems)
    }
}
