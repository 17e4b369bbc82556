import ProjectorTools
import ProjectorTestSupport
import Foundation
import KafkaClient
import Pipelines
import Projector
import ProjectorTesting
import Testing
import Views
import ProjectorModel

/// `projector run` end to end: the built binary, a real SQLite file, the mock cluster in this process.
@Suite("projector run, end to end")
struct RunCommandTests {
    /// A mock cluster with an `orders` topic holding the orders events of a generated stream.
    struct Stream {
        let fixture: MockClusterFixture
        let events: Int
        let directory: TemporaryDatabase

        init(partitions: Int, streamLength: Int) throws {
            fixture = try MockClusterFixture(brokerCount: 1)
            try fixture.cluster.createTopic("orders", partitions: partitions)
            let orders = DemoStream(count: streamLength).filter { $0.topic == "orders" }
            _ = try EventPublisher(brokers: fixture.bootstrapServers).publish(orders)
            events = orders.count
            directory = try TemporaryDatabase()
        }

        /// `projector run pipelines/order_summary.yaml` on this cluster into `database`.
        func arguments(database: String, group: String? = nil, extra: [String] = []) -> [String] {
            ["run", "pipelines/order_summary.yaml", "--brokers", fixture.bootstrapServers, "--db", database,
             "--group", group ?? fixture.makeGroupID(), "--exit-at-end",
             "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"] + extra
        }

        /// Runs to the end without interruption into a new database and returns its path.
        func reference() throws -> String {
            let path = directory.path(named: "reference.sqlite")
            let result = try ProjectorExecutable.run(arguments(database: path))
            #expect(result.status == 0, "\(result.stderr)")
            return path
        }
    }

    /// The sum of a pipeline's next offsets in a store, read by another connection.
    static func appliedCount(_ path: String) -> Int64 {
        guard let store = try? SQLiteViewStore(path: path, configuration: .init(isReadOnly: true)),
              let checkpoints = try? store.checkpoints(pipeline: "order_summary") else { return 0 }
        return checkpoints.reduce(0) { $0 + $1.nextOffset }
    }

    /// Records an issue unless both stores hold the same views; revenue sums may differ in the last
    /// bits because partitions interleave differently.
    static func expectSameViews(_ path: String, as referencePath: String) throws {
        try expectSameViews(SQLiteViewStore(path: path, configuration: .init(isReadOnly: true)), as: referencePath)
    }

    /// ``expectSameViews(_:as:)`` for a store of any kind (SQLite or PostgreSQL).
    static func expectSameViews(_ store: any ViewStoreReader, as referencePath: String) throws {
        let reference = try SQLiteViewStore(path: referencePath, configuration: .init(isReadOnly: true))
        #expect(try store.digest(ofView: "order_summary") == reference.digest(ofView: "order_summary"))
        let customers = try store.rows(ofView: "customer_stats").rows
        let expected = try reference.rows(ofView: "customer_stats").rows
        #expect(customers.count == expected.count)
        for (row, want) in zip(customers, expected) {
            #expect(row[0] == want[0] && row[1] == want[1], "customer and order count: \(row) vs \(want)")
            if case .real(let a) = row[2], case .real(let b) = want[2] {
                #expect(abs(a - b) <= 1e-6 * max(1, abs(b)), "revenue of \(row[0])")
            }
        }
    }

    @Test("SIGKILL at random instants loses and doubles nothing")
    func crashAtAnyInstant() throws {
        let stream = try Stream(partitions: 6, streamLength: 60_000)
        let reference = try stream.reference()
        let path = stream.directory.path
        var random = SystemRandomNumberGenerator()
        var kills = 0
        for round in 0 ..< 5 {
            let before = Self.appliedCount(path)
            guard before < stream.events else { break }
            let (process, _, _) = try ProjectorExecutable.start(
                stream.arguments(database: path, extra: ["--batch-size", "200"]), in: stream.directory.directory, label: "crash\(round)")
            // Kill at a random point of the progress left, not after a random time: a faster worker would
            // otherwise finish the stream before the kill and leave nothing to recover from.
            let target = before + Int64.random(in: 1 ... max(1, (Int64(stream.events) - before) / 2), using: &random)
            try waitUntil(deadline: .seconds(30), "the worker to apply \(target) events") {
                Self.appliedCount(path) >= target || !process.isRunning
            }
            usleep(UInt32.random(in: 0 ..< 2_000, using: &random))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            process.waitUntilExit()
        }
        let final = try ProjectorExecutable.run(stream.arguments(database: path))
        #expect(final.status == 0, "\(final.stderr)")
        #expect(kills >= 3, "the stream must outlast most rounds")
        #expect(Self.appliedCount(path) == stream.events)
        try Self.expectSameViews(path, as: reference)
    }

    @Test("SIGTERM finishes the batch in flight, commits and exits 0")
    func sigtermStopsCleanly() throws {
        let stream = try Stream(partitions: 3, streamLength: 60_000)
        let path = stream.directory.path
        var arguments = stream.arguments(database: path, extra: ["--batch-size", "100"])
        arguments.removeAll { $0 == "--exit-at-end" }
        let (process, _, stderr) = try ProjectorExecutable.start(arguments, in: stream.directory.directory, label: "term")
        try waitUntil(deadline: .seconds(30), "the worker to apply a batch") { Self.appliedCount(path) > 0 }
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0,
                "\((try? String(contentsOf: stderr, encoding: .utf8)) ?? "")")
        let applied = Self.appliedCount(path)
        #expect(applied > 0)
        let report = try String(contentsOf: stderr, encoding: .utf8)
        #expect(report.contains("pipeline order_summary: \(applied) events"), "the summary counts exactly what was committed")
    }

    @Test("two run processes in one group share the partitions and give the same views as one")
    func twoProcessesInOneGroup() throws {
        let stream = try Stream(partitions: 6, streamLength: 60_000)
        let reference = try stream.reference()
        let group = stream.fixture.makeGroupID()
        let path = stream.directory.path
        let runs = try (0 ..< 2).map { index in
            try ProjectorExecutable.start(stream.arguments(database: path, group: group, extra: ["--batch-size", "500"]),
                                          in: stream.directory.directory, label: "member\(index)")
        }
        for run in runs { run.process.waitUntilExit() }
        for run in runs {
            let stderr = try String(contentsOf: run.stderr, encoding: .utf8)
            #expect(run.process.terminationStatus == 0, "\(stderr)")
            #expect(!stderr.contains("order_summary: 0 events"), "both members get partitions: \(stderr)")
        }
        #expect(Self.appliedCount(path) == stream.events)
        try Self.expectSameViews(path, as: reference)
    }

    @Test("status --json reports checkpoints, high watermarks and lag")
    func statusJSON() throws {
        let stream = try Stream(partitions: 3, streamLength: 2_000)
        let path = try stream.reference()
        let result = try ProjectorExecutable.run(["status", "--db", path, "--brokers", stream.fixture.bootstrapServers, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let pipelines = try #require(object["pipelines"] as? [[String: Any]])
        let pipeline = try #require(pipelines.first)
        #expect(pipeline["name"] as? String == "order_summary")
        #expect(pipeline["version"] as? Int == 1)
        #expect((pipeline["hash"] as? String)?.isEmpty == false)
        let checkpoints = try #require(pipeline["checkpoints"] as? [[String: Any]])
        #expect(checkpoints.count == 3)
        #expect(checkpoints.reduce(0) { $0 + ($1["next_offset"] as? Int ?? 0) } == stream.events)
        #expect(checkpoints.allSatisfy { $0["lag"] as? Int == 0 && $0["high_watermark"] as? Int == $0["next_offset"] as? Int })
        #expect(checkpoints.allSatisfy { $0["topic"] as? String == "orders" && $0["partition"] is Int })

        let offline = try ProjectorExecutable.run(["status", "--db", path, "--json"])
        #expect(!offline.stdout.contains("lag"), "without brokers there is no lag")
    }

    @Test("bad usage exits 2 with one line; a missing database directory exits 1")
    func exitCodes() throws {
        let noBrokers = try ProjectorExecutable.run(["run", "pipelines/order_summary.yaml", "--db", "/tmp/x.sqlite"])
        #expect(noBrokers.status == 2)
        let twoWithGroup = try ProjectorExecutable.run(
            ["run", "pipelines/order_summary.yaml", "pipelines/inventory.yaml", "--brokers", "127.0.0.1:1", "--db", "/tmp/x.sqlite", "--group", "g"])
        #expect(twoWithGroup.status == 2)
        #expect(twoWithGroup.stderr.contains("--group"))
        let badDirectory = try ProjectorExecutable.run(
            ["run", "pipelines/order_summary.yaml", "--brokers", "127.0.0.1:1", "--db", "/nonexistent/dir/views.sqlite"])
        #expect(badDirectory.status == 1)
        #expect(badDirectory.stderr.contains("does not exist"))
    }

    @Test("rebuild swaps in equal views; verify says equal, then catches a tampered row; bad --until usage exits 2")
    func rebuildAndVerify() throws {
        let stream = try Stream(partitions: 3, streamLength: 6_000)
        let path = try stream.reference()
        let brokers = stream.fixture.bootstrapServers
        let rebuild = try ProjectorExecutable.run(["rebuild", "pipelines/order_summary.yaml", "--brokers", brokers, "--db", path])
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        #expect(Self.appliedCount(path) == stream.events)
        let equal = try ProjectorExecutable.run(["verify", "pipelines/order_summary.yaml", "--brokers", brokers, "--db", path])
        #expect(equal.status == 0, "\(equal.stderr)")
        #expect(equal.stdout.contains("equal"))

        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [path, #"UPDATE "order_summary" SET "status" = 'tampered' WHERE "order_id" = (SELECT min("order_id") FROM "order_summary")"#]
        try sqlite.run()
        sqlite.waitUntilExit()
        let different = try ProjectorExecutable.run(["verify", "pipelines/order_summary.yaml", "--brokers", brokers, "--db", path])
        #expect(different.status == 1)
        #expect(different.stdout.contains("different") && different.stdout.contains("tampered"), "\(different.stdout)")

        let noInto = try ProjectorExecutable.run(
            ["rebuild", "pipelines/order_summary.yaml", "--brokers", brokers, "--db", path, "--until", "2026-11-01T00:00:00Z"])
        #expect(noInto.status == 2)
        #expect(noInto.stderr.contains("--into"))
    }

    /// The sum of the next offsets of the pipeline's shadow (a rebuild in progress), read by another connection.
    static func shadowCount(_ path: String) -> Int64 {
        guard let store = try? SQLiteViewStore(path: path, configuration: .init(isReadOnly: true)),
              let shadow = try? store.pipelines().first(where: { $0.name == "order_summary" })?.shadow else { return 0 }
        return shadow.checkpoints.reduce(0) { $0 + $1.nextOffset }
    }

    @Test("SIGKILL of rebuild at random instants leaves the live views untouched; a rerun resumes and swaps equal views")
    func rebuildKilledAtAnyInstant() throws {
        let stream = try Stream(partitions: 6, streamLength: 200_000)
        let reference = try stream.reference()
        let path = stream.directory.path
        let built = try ProjectorExecutable.run(stream.arguments(database: path))
        #expect(built.status == 0, "\(built.stderr)")
        let live = try SQLiteViewStore(path: path, configuration: .init(isReadOnly: true))
        let before = try live.digest(ofView: "order_summary")
        // Windows of 1 MiB: the shadow is written many times, so there are windows to kill between.
        let arguments = ["rebuild", "pipelines/order_summary.yaml", "--brokers", stream.fixture.bootstrapServers, "--db", path,
                         "--memory", "1MiB"]
        var kills = 0
        for round in 0 ..< 3 {
            let progress = Self.shadowCount(path)
            let (process, _, _) = try ProjectorExecutable.start(arguments, in: stream.directory.directory, label: "rebuild\(round)")
            try waitUntil(deadline: .seconds(60), "the rebuild to write a batch") { Self.shadowCount(path) > progress || !process.isRunning }
            usleep(UInt32.random(in: 0 ..< 200_000))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            process.waitUntilExit()
            #expect(try live.digest(ofView: "order_summary") == before, "the live views stay untouched")
            #expect(Self.appliedCount(path) == stream.events)
        }
        let final = try ProjectorExecutable.run(arguments)
        #expect(final.status == 0, "\(final.stderr)")
        #expect(kills >= 1)
        #expect(Self.shadowCount(path) == 0, "swapped: no shadow left")
        #expect(Self.appliedCount(path) == stream.events)
        try Self.expectSameViews(path, as: reference)
    }

    @Test("dlq list, replay after the cause is fixed, and skip")
    func deadLetterCommands() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("counts", partitions: 1)
        let directory = try TemporaryDatabase()
        let pipeline = directory.path(named: "counts.yaml")
        try CountsPipeline.yaml(settings: ["on_error: dead-letter"]).write(toFile: pipeline, atomically: true, encoding: .utf8)
        let events = [
            #"{"eventType":"Add","data":{"id":"a","by":1}}"#,
            #"{"eventType":"Add","data":{"id":"a","by":9223372036854775807}}"#,
            "{broken",
        ].map { DemoEvent(topic: "counts", key: "a", value: $0) }
        _ = try EventPublisher(brokers: fixture.bootstrapServers).publish(events)
        let run = try ProjectorExecutable.run(["run", pipeline, "--brokers", fixture.bootstrapServers, "--db", directory.path,
                                               "--exit-at-end", "--group", fixture.makeGroupID()])
        #expect(run.status == 0, "\(run.stderr)")

        let list = try ProjectorExecutable.run(["dlq", "list", "counts", "--db", directory.path, "--json"])
        let letters = try list.jsonLines()
        #expect(letters.count == 2)
        #expect((letters.first?["error"] as? String)?.contains("overflow") == true)
        #expect(letters.map { $0["offset"] as? Int } == [1, 2])

        // The cause of the overflow is fixed in the row; the malformed event still fails.
        let store = try SQLiteViewStore(path: directory.path)
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [directory.path, #"UPDATE "counts" SET "n" = 0"#]
        try sqlite.run()
        sqlite.waitUntilExit()
        let replay = try ProjectorExecutable.run(["dlq", "replay", pipeline, "--db", directory.path])
        #expect(replay.status == 1, "one letter still fails")
        #expect(replay.stdout.contains("replayed 1 dead letter(s) of counts"))
        #expect(replay.stderr.contains("still fails: malformedJSON"))
        #expect(try store.rows(ofView: "counts").rows == [[.text("a"), .integer(Int64.max)]])

        let skip = try ProjectorExecutable.run(["dlq", "skip", "counts", "--db", directory.path, "--all"])
        #expect(skip.status == 0, "\(skip.stderr)")
        #expect(try store.deadLetters().isEmpty)
    }
}
