import Foundation
import ProjectorModel
import ProjectorTesting
import ProjectorTestSupport
import ProjectorTools
import Testing
import Views

/// A rebuild folds the log in memory windows (`--memory`) and writes each window with its
/// checkpoints in one transaction: SIGKILL in the middle of a window loses only that window.
@Suite("rebuild windows: SIGKILL")
struct RebuildWindowKillTests {
    @Test("SIGKILL of rebuild in the middle of a window; the rerun resumes from the last written window and equals an uninterrupted rebuild")
    func killInTheMiddleOfAWindow() throws {
        let stream = try RunCommandTests.Stream(partitions: 6, streamLength: 150_000)
        let brokers = stream.fixture.bootstrapServers
        let uninterrupted = stream.directory.path(named: "uninterrupted.sqlite")
        let clean = try ProjectorExecutable.run(["rebuild", "pipelines/order_summary.yaml", "--brokers", brokers, "--db", uninterrupted])
        #expect(clean.status == 0, "\(clean.stderr)")

        let path = stream.directory.path
        let arguments = ["rebuild", "pipelines/order_summary.yaml", "--brokers", brokers, "--db", path, "--memory", "1MiB",
                         "--batch-size", "200"]
        let rebuild = try ServedWorker(arguments, in: stream.directory.directory)
        let pid = rebuild.process.processIdentifier
        // Batches of 200 events: a window of 1 MiB (~3,000 rows) spans many of them.
        // Stopped (SIGSTOP) at a moment when the process has folded more events than the shadow
        // holds, after at least one window was written, it is killed there.
        var folded = 0.0
        var written: Int64 = 0
        var killed = false
        try waitUntil(deadline: .seconds(120), pollInterval: .milliseconds(5), "a moment with events folded but not written") {
            guard rebuild.process.isRunning else { return true }
            guard let events = try? rebuild.metrics().sum("projector_rebuild_events") else { return false }
            kill(pid, SIGSTOP)
            let shadow = Self.shadowCount(path)
            if shadow > 0 && Double(shadow) < events {
                (folded, written) = (events, shadow)
                kill(pid, SIGKILL)
                killed = true
                return true
            }
            kill(pid, SIGCONT)
            return false
        }
        rebuild.process.waitUntilExit()
        #expect(killed, "the rebuild ended before it could be stopped in a window: \(rebuild.errorOutput)")
        #expect(Self.shadowCount(path) == written, "the shadow holds the windows written before the kill")
        #expect(RunCommandTests.appliedCount(path) == 0, "no live views yet")

        let resumed = try ProjectorExecutable.run(arguments)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("(resumed)"), "\(resumed.stderr)")
        #expect(resumed.stderr.range(of: #"\d+ windows written \([1-9]\d* while reading on\)"#, options: .regularExpression) != nil,
                "full windows written on the second connection while the next filled: \(resumed.stderr)")
        #expect(resumed.stderr.contains("rebuild order_summary: \(Int64(stream.events) - written) events in"),
                "reads only what the shadow did not hold (killed with \(Int(folded)) folded, \(written) written): \(resumed.stderr)")
        #expect(RunCommandTests.appliedCount(path) == stream.events)
        let store = try SQLiteViewStore(path: path, configuration: .init(isReadOnly: true))
        let reference = try SQLiteViewStore(path: uninterrupted, configuration: .init(isReadOnly: true))
        #expect(try store.checkpoints(pipeline: "order_summary") == reference.checkpoints(pipeline: "order_summary"))
        try RunCommandTests.expectSameViews(path, as: uninterrupted)
    }

    /// The sum of the next offsets of the shadow's checkpoints (none live yet), read by another connection.
    static func shadowCount(_ path: String) -> Int64 {
        guard let store = try? SQLiteViewStore(path: path, configuration: .init(isReadOnly: true)),
              let checkpoints = try? store.checkpoints(pipeline: "order_summary", target: .shadow) else { return 0 }
        return checkpoints.reduce(0) { $0 + $1.nextOffset }
    }
}
