import ProjectorTestSupport
import Foundation
import KafkaClient
import Projector
import ProjectorTesting
import Testing

/// Broker faults while `projector run` consumes: the mock cluster runs in this process, so its fault
/// controls act while the binary runs. Every scenario publishes half the stream, starts the worker,
/// injects the fault mid-stream while the other half is published, heals it, and requires the views
/// to EQUAL the independent reference (``ReferenceLedger``) with checkpoints at the high watermarks.
@Suite("faults: brokers and requests")
struct FaultBrokerTests {
    /// One fault: what to do before the worker starts, mid-stream, and to heal.
    struct Fault: Sendable, CustomTestStringConvertible {
        var name: String
        /// Kafka error codes pushed before the worker starts (JoinGroup happens at start).
        var before: @Sendable (LedgerStream, String) throws -> Void = { _, _ in }
        var inject: @Sendable (LedgerStream, String) throws -> Void = { _, _ in }
        var heal: @Sendable (LedgerStream, String) throws -> Void = { _, _ in }
        /// How long the fault holds before `heal` (it is a fault's duration, not synchronisation).
        var holdMilliseconds: UInt32 = 0
        /// A fatal fault: the worker must stop with this text in its error and exit 1.
        var fatalText: String?
        var testDescription: String { name }
    }

    static func code(_ raw: Int32) -> KafkaError.Code { KafkaError.Code(rawValue: raw) }

    static let faults: [Fault] = [
        Fault(name: "one broker down for 3 s", inject: { stream, _ in try stream.fixture.cluster.setBrokerDown(1) },
              heal: { stream, _ in try stream.fixture.cluster.setBrokerUp(1) }, holdMilliseconds: 3_000),
        Fault(name: "all brokers down for 3 s",
              inject: { stream, _ in for broker in 1 ... 3 { try stream.fixture.cluster.setBrokerDown(Int32(broker)) } },
              heal: { stream, _ in for broker in 1 ... 3 { try stream.fixture.cluster.setBrokerUp(Int32(broker)) } },
              holdMilliseconds: 3_000),
        Fault(name: "partition leaders moved", inject: { stream, _ in
            for partition in 0 ..< Int32(stream.partitions) {
                try stream.fixture.cluster.setPartitionLeader(topic: stream.topic, partition: partition, broker: partition % 3 + 1)
            }
        }, heal: { stream, _ in
            for partition in 0 ..< Int32(stream.partitions) {
                try stream.fixture.cluster.setPartitionLeader(topic: stream.topic, partition: partition, broker: (partition + 1) % 3 + 1)
            }
        }, holdMilliseconds: 1_000),
        Fault(name: "group coordinator moved", inject: { stream, group in
            try stream.fixture.cluster.setGroupCoordinator(group: group, broker: 2)
        }, heal: { stream, group in try stream.fixture.cluster.setGroupCoordinator(group: group, broker: 3) }, holdMilliseconds: 1_500),
        Fault(name: "Fetch: retriable errors", inject: { stream, _ in
            stream.fixture.cluster.pushRequestErrors(
                [.notLeaderForPartition, .leaderNotAvailable, .requestTimedOut, code(56) /* KAFKA_STORAGE_ERROR */, .notLeaderForPartition], for: .fetch)
        }),
        Fault(name: "OffsetCommit: retriable errors", inject: { stream, _ in
            stream.fixture.cluster.pushRequestErrors(
                [.coordinatorNotAvailable, .notCoordinator, .requestTimedOut, code(14) /* COORDINATOR_LOAD_IN_PROGRESS */], for: .offsetCommit)
        }),
        Fault(name: "JoinGroup: retriable errors", before: { stream, _ in
            stream.fixture.cluster.pushRequestErrors([.coordinatorNotAvailable, .notCoordinator, code(14)], for: .joinGroup)
        }),
        Fault(name: "Heartbeat: retriable errors and a forced rebalance", inject: { stream, _ in
            stream.fixture.cluster.pushRequestErrors(
                [.notCoordinator, .coordinatorNotAvailable, code(27) /* REBALANCE_IN_PROGRESS */], for: .heartbeat)
        }),
        Fault(name: "Fetch: fatal TOPIC_AUTHORIZATION_FAILED", inject: { stream, _ in
            stream.fixture.cluster.pushRequestErrors(Array(repeating: code(29), count: 3), for: .fetch)
        }, fatalText: "AUTHORIZATION"),
        Fault(name: "JoinGroup: fatal GROUP_AUTHORIZATION_FAILED", before: { stream, _ in
            stream.fixture.cluster.pushRequestErrors(Array(repeating: code(30), count: 3), for: .joinGroup)
        }, fatalText: "AUTHORIZATION"),
        // librdkafka 2.0.2 does not surface a failed heartbeat to the application: the member keeps
        // its assignment while heartbeats fail within the session timeout, so this one is survived.
        Fault(name: "Heartbeat: GROUP_AUTHORIZATION_FAILED (not surfaced by librdkafka)", inject: { stream, _ in
            stream.fixture.cluster.pushRequestErrors(Array(repeating: code(30), count: 3), for: .heartbeat)
        }),
        Fault(name: "OffsetCommit: fatal GROUP_AUTHORIZATION_FAILED", inject: { stream, _ in
            stream.fixture.cluster.pushRequestErrors(Array(repeating: code(30), count: 3), for: .offsetCommit)
        }, fatalText: "AUTHORIZATION"),
    ]

    @Test("the views equal the reference after the fault", arguments: faults)
    func fault(_ fault: Fault) throws {
        let rounds = isLongRun ? 3 : 1
        for round in 0 ..< rounds {
            try runOnce(fault, round: round)
        }
    }

    private func runOnce(_ fault: Fault, round: Int) throws {
        let half = isLongRun ? 6_000 : 1_000
        let stream = try LedgerStream()
        let group = stream.fixture.makeGroupID()
        try stream.publish(half)
        try fault.before(stream, group)
        let worker = try stream.start("worker\(round)", group: group)
        if fault.fatalText == nil || !fault.name.hasPrefix("JoinGroup") {
            try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(20), "the worker to apply a batch") {
                stream.appliedCount > 0 || !worker.isRunning
            }
        }
        randomPause(upTo: 300)
        try fault.inject(stream, group)
        let second = stream.publishInBackground(half, chunks: 4)
        if fault.holdMilliseconds > 0 { usleep(fault.holdMilliseconds * 1000) }
        try fault.heal(stream, group)
        try second.wait()

        if let fatalText = fault.fatalText {
            let status = worker.waitForExit(deadline: .seconds(60))
            let stderr = worker.errorOutput
            #expect(status == 1, "a fatal broker error ends the worker: \(stderr)")
            #expect(stderr.contains(fatalText), "a clear error: \(stderr)")
            // Nothing half-committed: what is stored equals the reference cut at the checkpoints.
            let partial = try stream.differences(atHighWatermarks: false)
            #expect(partial.isEmpty, "\(partial)")
            // Restarted without the fault (errors not yet fired are dropped), it resumes and completes.
            for key in [KafkaAPIKey.fetch, .joinGroup, .heartbeat, .offsetCommit] { stream.fixture.cluster.clearRequestErrors(for: key) }
            let again = try stream.start("restart\(round)", group: stream.fixture.makeGroupID())
            try stream.waitUntilAllApplied()
            #expect(again.stop() == 0, "\(again.errorOutput)")
        } else {
            try stream.waitUntilAllApplied()
            #expect(worker.isRunning, "the worker survives a retriable fault: \(worker.errorOutput)")
            #expect(worker.stop() == 0, "\(worker.errorOutput)")
        }
        let problems = try stream.differences()
        #expect(problems.isEmpty, "\(fault.name): \(problems)")
        reportScenario(fault.name, faults: 1, events: stream.publishedCount, problems: problems)
    }
}
