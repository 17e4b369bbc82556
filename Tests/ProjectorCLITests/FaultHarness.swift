import ProjectorTools
import ProjectorTestSupport
import Foundation
import KafkaClient
import Projector
import ProjectorTesting
import Synchronization
import Testing

/// Whether the long reliability loops run (`scripts/reliability` sets PROJECTOR_LONG_TESTS=1).
let isLongRun = ProcessInfo.processInfo.environment["PROJECTOR_LONG_TESTS"] == "1"

/// Counts for the final report, printed by each scenario: `reliability: scenario=... faults=... events=...`.
func reportScenario(_ name: String, faults: Int, events: Int, problems: [String]) {
    print("reliability: scenario=\(name) faults=\(faults) events=\(events) problems=\(problems.count)")
}

/// A ledger topic on an in-process mock cluster, the ledger pipeline in a file, a database path,
/// and `projector run` processes started against them.
final class LedgerStream: Sendable {
    let fixture: MockClusterFixture
    let topic: String
    let partitions: Int
    let directory: TemporaryDatabase
    let pipelinePath: String
    let publisher: EventPublisher
    private let produced = Atomic<Int>(0)

    let database: String
    var bootstrapServers: String { fixture.bootstrapServers }
    /// Events published so far.
    var publishedCount: Int { produced.load(ordering: .relaxed) }

    init(brokers: Int = 3, partitions: Int = 4, onError: String = "fail", pipelineExtra: String = "",
         database: ((TemporaryDatabase) throws -> String)? = nil) throws {
        fixture = try MockClusterFixture(brokerCount: brokers)
        topic = fixture.makeName("ledger")
        self.partitions = partitions
        try fixture.cluster.createTopic(topic, partitions: partitions)
        directory = try TemporaryDatabase()
        self.database = try database?(directory) ?? directory.path
        pipelinePath = directory.path(named: "ledger.yaml")
        try ReferenceLedger.pipeline(topic: topic, onError: onError, extra: pipelineExtra)
            .write(toFile: pipelinePath, atomically: true, encoding: .utf8)
        publisher = try EventPublisher(brokers: fixture.bootstrapServers, properties: ["message.timeout.ms": "120000"])
    }

    /// Publishes `count` more ledger events and waits until every one is delivered.
    func publish(_ count: Int) throws {
        let first = produced.add(count, ordering: .relaxed).newValue - count
        _ = try publisher.publish(ReferenceLedger.events(count: count, topic: topic, from: first))
    }

    /// Publishes on another thread; `wait()` returns the error, if any.
    func publishInBackground(_ count: Int, chunks: Int = 1) -> BackgroundWork {
        BackgroundWork { [self] in
            for _ in 0 ..< chunks { try publish(count / chunks) }
        }
    }

    /// `projector run` arguments for this stream.
    func arguments(group: String, batchSize: Int = 100, extra: [String] = []) -> [String] {
        ["run", pipelinePath, "--brokers", bootstrapServers] + ReferenceLedger.databaseArguments(database) + ["--group", group,
         "--batch-size", String(batchSize),
         "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"] + extra
    }

    /// Starts `projector run`; its output goes to `<label>.out/.err` in the stream's directory.
    func start(_ label: String, group: String, batchSize: Int = 100, extra: [String] = []) throws -> Worker {
        let (process, _, stderr) = try ProjectorExecutable.start(
            arguments(group: group, batchSize: batchSize, extra: extra), in: directory.directory, label: label)
        return Worker(process: process, stderr: stderr)
    }

    /// `rounds` times: events flow (`eventsPerRound` in `chunks`) while a `projector run` starts,
    /// applies at least one batch, and is SIGKILLed after a random pause.
    /// - Returns: how many runs were killed (a run that exited first was not).
    func killRunsWhileEventsFlow(rounds: Int, eventsPerRound: Int, chunks: Int, batchSize: Int, pauseUpTo: UInt32) throws -> Int {
        var kills = 0
        for round in 0 ..< rounds {
            let before = appliedCount
            let flow = publishInBackground(eventsPerRound, chunks: chunks)
            let worker = try start("run\(round)", group: fixture.makeGroupID(), batchSize: batchSize)
            try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(10), "a batch") {
                appliedCount > before || !worker.isRunning
            }
            randomPause(upTo: pauseUpTo)
            if worker.isRunning {
                worker.signal(SIGKILL)
                kills += 1
            }
            worker.waitForExit()
            try flow.wait()
        }
        return kills
    }

    /// Events applied so far (the sum of the stored checkpoints).
    var appliedCount: Int64 { ReferenceLedger.appliedCount(database: database) }

    /// Waits until every published event is applied.
    func waitUntilAllApplied(deadline: Duration = .seconds(90), while workers: [Worker] = []) throws {
        try waitUntil(deadline: deadline, pollInterval: .milliseconds(50), "all \(publishedCount) events applied") {
            appliedCount >= Int64(publishedCount)
        }
    }

    /// Reads the topic back and compares the store with the reference (at the high watermarks unless told).
    func differences(atHighWatermarks: Bool = true) throws -> [String] {
        let contents = try ReferenceLedger.readTopic(topic, brokers: bootstrapServers, partitions: partitions)
        #expect(contents.records.count == publishedCount, "the topic holds what was published")
        return try ReferenceLedger.differences(database: database, contents: contents, atHighWatermarks: atHighWatermarks)
    }

    /// A running `projector run`.
    struct Worker: @unchecked Sendable {
        // @unchecked Sendable: Process is thread-safe for the calls used here (pid, isRunning, wait).
        let process: Process
        let stderr: URL

        var isRunning: Bool { process.isRunning }
        var errorOutput: String { (try? String(contentsOf: stderr, encoding: .utf8)) ?? "" }

        func signal(_ number: Int32) {
            if process.isRunning { kill(process.processIdentifier, number) }
        }

        /// Waits for the exit within `deadline` (SIGKILL and an issue after it) and returns the status.
        @discardableResult
        func waitForExit(deadline: Duration = .seconds(60)) -> Int32 {
            do {
                try waitUntil(deadline: deadline, pollInterval: .milliseconds(20), "projector to exit") { !process.isRunning }
            } catch {
                Issue.record("projector did not exit within \(deadline): \(errorOutput)")
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
            return process.terminationStatus
        }

        /// SIGTERM, then the exit status (0 is a clean stop).
        ///
        /// SIGTERM is sent again every 2 s: one sent in the first milliseconds of `run`, between
        /// `signal(SIGTERM, SIG_IGN)` and the dispatch source's start, is lost (a known startup race).
        @discardableResult
        func stop() -> Int32 {
            var sent = ContinuousClock.now
            signal(SIGTERM)
            _ = try? waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(20), "projector to stop") {
                if ContinuousClock.now - sent > .seconds(2) {
                    sent = ContinuousClock.now
                    signal(SIGTERM)
                }
                return !process.isRunning
            }
            return waitForExit(deadline: .seconds(5))
        }

        /// Whether the process aborted in librdkafka 2.0.2's cooperative-sticky assignor at close
        /// (confluentinc/librdkafka#4312, fixed in 2.3 by #4381): after its last commit, so no data is at stake.
        var abortedInStickyAssignor: Bool {
            process.terminationStatus == SIGABRT && errorOutput.contains("rd_kafka_sticky_assignor_state_destroy")
        }

        /// Stops the worker and expects a clean exit, tolerating the known librdkafka abort at close.
        func expectCleanStop(_ comment: String = "") {
            let status = stop()
            if status != 0 && abortedInStickyAssignor {
                withKnownIssue("librdkafka 2.0.2 aborts closing a cooperative-sticky consumer (librdkafka#4312)") {
                    Issue.record("aborted in librdkafka's sticky assignor at close \(comment)")
                }
            } else {
                #expect(status == 0, "\(comment) \(errorOutput.suffix(3_000))")
            }
        }
    }
}

/// Work on a background thread whose error the test collects.
final class BackgroundWork: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let failure = Mutex<(any Error)?>(nil)

    init(_ body: @escaping @Sendable () throws -> Void) {
        let thread = Thread { [self] in
            do { try body() } catch { failure.withLock { $0 = error } }
            done.signal()
        }
        thread.start()
    }

    /// Waits for the end and rethrows the body's error.
    func wait() throws {
        done.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }
}

/// A random pause of up to `maximum` milliseconds (before injecting a fault; never as synchronisation).
func randomPause(upTo maximum: UInt32) {
    usleep(UInt32.random(in: 0 ... maximum) * 1000)
}
