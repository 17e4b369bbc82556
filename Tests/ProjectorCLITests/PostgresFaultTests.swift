import Foundation
import ProjectorTestSupport
import ProjectorTesting
import Testing

/// The PostgreSQL server under a running worker: restarted mid-run, a statement past its
/// `statement_timeout`, every connection slot taken. Each test has a cluster of its own
/// (``PrivatePostgres``) and ends in views that EQUAL the independent reference, with the
/// checkpoints at the high watermarks.
@Suite("faults: PostgreSQL", .enabled(if: TestPostgres.isEnabled))
struct PostgresFaultTests {
    @Test("the server restarted mid-run: the worker reconnects and resumes from the stored checkpoints")
    func serverRestart() throws {
        let server = try PrivatePostgres()
        let stream = try LedgerStream(database: { _ in server.url })
        try stream.publish(1_000)
        let worker = try stream.start("worker", group: stream.fixture.makeGroupID(), batchSize: 50)
        try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(20), "a batch") { stream.appliedCount > 0 }
        let flow = stream.publishInBackground(3_000, chunks: 6)
        for restart in 0 ..< 2 {
            let before = stream.appliedCount
            try server.restart()
            try waitUntil(deadline: .seconds(30), pollInterval: .milliseconds(20), "a batch after restart \(restart)") {
                stream.appliedCount > before || !worker.isRunning
            }
            #expect(worker.isRunning, "\(worker.errorOutput.suffix(3_000))")
        }
        try flow.wait()
        try stream.waitUntilAllApplied(deadline: .seconds(60))
        #expect(worker.stop() == 0, "\(worker.errorOutput.suffix(3_000))")
        #expect(worker.errorOutput.contains("lost its connection"), "the worker says what happened: \(worker.errorOutput.suffix(3_000))")
        let problems = try stream.differences()
        #expect(problems.isEmpty, "\(problems)")
        reportScenario("postgres restart", faults: 2, events: stream.publishedCount, problems: problems)
    }

    @Test("a statement past statement_timeout (options in the URL): the batch rolls back, the worker exits 1 naming the timeout and the command to resume")
    func statementTimeout() throws {
        let server = try PrivatePostgres()
        let stream = try LedgerStream(database: { _ in server.url })
        try stream.publish(500)
        var arguments = stream.arguments(group: stream.fixture.makeGroupID(), batchSize: 50)
        let db = try #require(arguments.firstIndex(of: "--db")) + 1
        arguments[db] = server.url + "&options=-c%20statement_timeout%3D1000"
        let (process, _, errors) = try ProjectorExecutable.start(arguments, in: stream.directory.directory, label: "bounded")
        let worker = LedgerStream.Worker(process: process, stderr: errors)
        try stream.waitUntilAllApplied(deadline: .seconds(60))
        // A colleague's transaction holds the table: the worker's next batch waits on it past 1 s.
        let holder = try PrivatePostgres.Session(
            url: server.url, statements: "BEGIN;\nLOCK TABLE ledger_balances IN ACCESS EXCLUSIVE MODE;",
            flag: stream.directory.path(named: "holder.ready"))
        try waitUntil(deadline: .seconds(20), pollInterval: .milliseconds(20), "psql to hold the lock") {
            holder.isReady || !holder.process.isRunning
        }
        try #require(holder.isReady, "\(holder.errorOutput)")
        let applied = stream.appliedCount
        let started = ContinuousClock.now
        try stream.publish(500)
        let status = worker.waitForExit(deadline: .seconds(30))
        let stderr = worker.errorOutput
        #expect(status == 1, "\(stderr.suffix(3_000))")
        #expect(stderr.contains("statement timeout") && stderr.contains("57014"), "names the timeout: \(stderr.suffix(3_000))")
        #expect(stderr.contains("hint: nothing of the failed batch was stored; to resume from the stored checkpoints: ")
                && stderr.contains("statement_timeout%3D1000"), "the command to resume: \(stderr.suffix(3_000))")
        #expect(ContinuousClock.now - started < .seconds(20))
        holder.finish()
        #expect(stream.appliedCount == applied, "nothing of the batch was stored")
        #expect(try stream.differences(atHighWatermarks: false).isEmpty, "nothing half-committed")

        let again = try stream.start("again", group: stream.fixture.makeGroupID(), batchSize: 50)
        try stream.waitUntilAllApplied(deadline: .seconds(60))
        #expect(again.stop() == 0, "\(again.errorOutput.suffix(3_000))")
        let problems = try stream.differences()
        #expect(problems.isEmpty, "\(problems)")
        reportScenario("postgres statement timeout", faults: 1, events: stream.publishedCount, problems: problems)
    }

    @Test("every connection slot taken: a worker waits for one, says so, and goes on; past --busy-timeout it exits 1 saying why")
    func fullConnectionPool() throws {
        let server = try PrivatePostgres()
        // The workers log in as a plain role with 5 connection slots (superusers have no limit).
        try server.psql("CREATE ROLE worker LOGIN CONNECTION LIMIT 5; GRANT CREATE ON DATABASE projector TO worker; GRANT CREATE ON SCHEMA public TO worker")
        let url = server.url.replacingOccurrences(of: "//projector@", with: "//worker@")
        let stream = try LedgerStream(database: { _ in url })
        try stream.publish(500)
        let group = stream.fixture.makeGroupID()
        let first = try stream.start("first", group: group, batchSize: 50)
        do {
            try stream.waitUntilAllApplied(deadline: .seconds(60))
        } catch {
            Issue.record("the first member: \(first.errorOutput.suffix(3_000))")
            throw error
        }
        // Every other slot taken by idle psql sessions (until the server refuses one).
        var sessions: [PrivatePostgres.Session] = []
        defer { for session in sessions { session.finish() } }
        while sessions.count < 10 {
            let session = try PrivatePostgres.Session(
                url: url, statements: "SELECT 1;", flag: stream.directory.path(named: "slot\(sessions.count).ready"))
            try waitUntil(deadline: .seconds(20), pollInterval: .milliseconds(20), "psql to connect or fail") {
                session.isReady || !session.process.isRunning
            }
            guard session.isReady else {
                #expect(session.errorOutput.contains("too many connections"), "\(session.errorOutput)")
                break
            }
            sessions.append(session)
        }
        try #require(sessions.count >= 2 && sessions.count < 10, "the server is full")

        // Past --busy-timeout: exit 1 with the server's reason and what to do.
        let impatient = try stream.start("impatient", group: stream.fixture.makeGroupID(), extra: ["--busy-timeout", "2"])
        #expect(impatient.waitForExit(deadline: .seconds(30)) == 1, "\(impatient.errorOutput)")
        #expect(impatient.errorOutput.contains("too many connections") && impatient.errorOutput.contains("53300")
                    && impatient.errorOutput.contains("CONNECTION LIMIT"),
                "a clear error: \(impatient.errorOutput)")

        // Within it: the second member waits, says so, and joins once a slot is free.
        let second = try stream.start("second", group: group, batchSize: 50)
        try waitUntil(deadline: .seconds(20), pollInterval: .milliseconds(20), "the second member to say it waits") {
            second.errorOutput.contains("waiting up to") || !second.isRunning
        }
        #expect(second.isRunning && second.errorOutput.contains("too many connections"), "\(second.errorOutput)")
        try stream.publish(1_000)
        // Two slots free: one for the second member, one for this test's reads.
        sessions.removeLast().finish()
        sessions.removeLast().finish()
        try stream.waitUntilAllApplied(deadline: .seconds(60))
        try waitUntil(deadline: .seconds(30), pollInterval: .milliseconds(20), "the second member to connect") {
            second.errorOutput.contains("connected to") || !second.isRunning
        }
        for session in sessions { session.finish() }
        sessions.removeAll()
        second.expectCleanStop("second")
        first.expectCleanStop("first")
        let problems = try stream.differences()
        #expect(problems.isEmpty, "\(problems)")
        reportScenario("postgres connection slots", faults: 2, events: stream.publishedCount, problems: problems)
    }
}
