import Foundation
import KafkaClient
import Projector
import ProjectorTesting
import Testing

/// The database under the worker: a long external reader, an external writer holding the write
/// lock (SQLITE_BUSY), a full disk and a read-only file system. Each ends in views that EQUAL the
/// independent reference, with the checkpoints at the high watermarks.
@Suite("faults: the database")
struct FaultDatabaseTests {
    /// An `sqlite3` shell on `path` that runs `statements` and keeps its transaction open until
    /// ``finish()``; `flag` exists once the statements ran.
    final class ExternalConnection: @unchecked Sendable {
        // @unchecked Sendable: used by the test's thread only.
        let process = Process()
        let input = Pipe()
        let flag: String

        init(path: String, statements: String, directory: TemporaryDatabase, label: String) throws {
            flag = directory.path(named: "\(label).ready")
            process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            process.arguments = [path]
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            input.fileHandleForWriting.write(Data("\(statements)\n.shell touch '\(flag)'\n".utf8))
            try waitUntil(deadline: .seconds(20), "\(label) to hold its transaction") {
                FileManager.default.fileExists(atPath: flag)
            }
        }

        /// Ends the shell; an open transaction rolls back. (Give `.timeout` before `BEGIN IMMEDIATE`:
        /// without it the shell fails at once when a worker writes, and the test would run unlocked.)
        func finish() {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }

    @Test("an external reader holding a long read transaction does not stop the worker (WAL)")
    func longReader() throws {
        let stream = try LedgerStream()
        try stream.publish(2_000)
        let worker = try stream.start("worker", group: stream.fixture.makeGroupID())
        try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(20), "a batch") { stream.appliedCount > 0 }
        let reader = try ExternalConnection(path: stream.database, statements: "BEGIN; SELECT count(*) FROM ledger_audit;",
                                            directory: stream.directory, label: "reader")
        try stream.publish(4_000)
        try stream.waitUntilAllApplied(deadline: .seconds(60))
        reader.finish()
        #expect(worker.stop() == 0, "\(worker.errorOutput)")
        let problems = try stream.differences()
        #expect(problems.isEmpty, "\(problems)")
        reportScenario("long reader", faults: 1, events: stream.publishedCount, problems: problems)
    }

    @Test("an external writer holding the lock: short, the worker waits it out; past --busy-timeout, a clear error, nothing lost")
    func externalWriter() throws {
        let stream = try LedgerStream()
        try stream.publish(2_000)
        let worker = try stream.start("worker", group: stream.fixture.makeGroupID(), extra: ["--busy-timeout", "5"])
        try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(20), "a batch") { stream.appliedCount > 0 }
        // Shorter than the busy timeout: SQLite's busy handler retries with growing sleeps.
        let brief = try ExternalConnection(path: stream.database, statements: ".timeout 30000\nBEGIN IMMEDIATE;", directory: stream.directory, label: "brief")
        try stream.publish(1_000)
        usleep(UInt32.random(in: 500_000 ... 2_000_000))
        brief.finish()
        try stream.waitUntilAllApplied(deadline: .seconds(60))
        #expect(worker.isRunning, "\(worker.errorOutput)")
        #expect(worker.stop() == 0, "\(worker.errorOutput)")

        // Longer than --busy-timeout 1: the worker stops with a clear error within a bound.
        let impatient = try stream.start("impatient", group: stream.fixture.makeGroupID(), extra: ["--busy-timeout", "1"])
        let blocker = try ExternalConnection(path: stream.database, statements: ".timeout 30000\nBEGIN IMMEDIATE;", directory: stream.directory, label: "blocker")
        let started = ContinuousClock.now
        try stream.publish(1_000)
        let status = impatient.waitForExit(deadline: .seconds(60))
        let stderr = impatient.errorOutput
        #expect(status == 1, "\(stderr)")
        #expect(stderr.contains("locked") && stderr.contains("busy timeout"), "a clear error: \(stderr)")
        #expect(ContinuousClock.now - started < .seconds(45))
        blocker.finish()
        #expect(try stream.differences(atHighWatermarks: false).isEmpty, "nothing half-committed")

        let again = try stream.start("again", group: stream.fixture.makeGroupID())
        try stream.waitUntilAllApplied(deadline: .seconds(60))
        #expect(again.stop() == 0, "\(again.errorOutput)")
        let problems = try stream.differences()
        #expect(problems.isEmpty, "\(problems)")
        reportScenario("external writer", faults: 2, events: stream.publishedCount, problems: problems)
    }

    /// Whether this process may mount a tmpfs (root in the CI container); the disk tests need it.
    static let canMount: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/bin/mount") else { return false }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("projector-mount-probe-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { _ = try? shell("/bin/umount", [directory.path]); try? FileManager.default.removeItem(at: directory) }
        return (try? shell("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", directory.path])) == 0
    }()

    @discardableResult
    static func shell(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test("a full disk, then a read-only file system: clear errors, nothing lost, a restart resumes",
          .enabled(if: canMount, "needs root to mount a small tmpfs"))
    func fullAndReadOnlyDisk() throws {
        var mountPoint = ""
        let stream = try LedgerStream { directory in
            mountPoint = directory.path(named: "disk")
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
            try #require(try Self.shell("/bin/mount", ["-t", "tmpfs", "-o", "size=600k", "tmpfs", mountPoint]) == 0)
            return mountPoint + "/views.sqlite"
        }
        defer { _ = try? Self.shell("/bin/umount", ["-l", mountPoint]) }
        try stream.publish(12_000)
        let full = try stream.start("full", group: stream.fixture.makeGroupID())
        #expect(full.waitForExit(deadline: .seconds(90)) == 1, "\(full.errorOutput)")
        #expect(full.errorOutput.contains("full"), "a clear error: \(full.errorOutput)")
        #expect(try stream.differences(atHighWatermarks: false).isEmpty, "nothing half-committed")
        let applied = stream.appliedCount
        #expect(applied < 12_000)

        try #require(try Self.shell("/bin/mount", ["-o", "remount,size=64m,ro", mountPoint]) == 0)
        let readOnly = try stream.start("readonly", group: stream.fixture.makeGroupID())
        #expect(readOnly.waitForExit(deadline: .seconds(60)) == 1, "\(readOnly.errorOutput)")
        #expect(readOnly.errorOutput.lowercased().contains("read-only") || readOnly.errorOutput.contains("readonly"),
                "a clear error: \(readOnly.errorOutput)")
        #expect(stream.appliedCount == applied)

        try #require(try Self.shell("/bin/mount", ["-o", "remount,rw", mountPoint]) == 0)
        let again = try stream.start("again", group: stream.fixture.makeGroupID())
        try stream.waitUntilAllApplied(deadline: .seconds(90))
        #expect(again.stop() == 0, "\(again.errorOutput)")
        let problems = try stream.differences()
        #expect(problems.isEmpty, "\(problems)")
        reportScenario("disk full and read-only", faults: 2, events: stream.publishedCount, problems: problems)
    }
}
