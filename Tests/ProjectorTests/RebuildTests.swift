import Foundation
import KafkaClient
import Pipelines
import Projector
import ProjectorTesting
import Synchronization
import Testing
import Views
import ProjectorModel

@Suite("rebuild")
struct RebuildTests {
    /// The example pipelines over the samples (upcasts, a redelivery, unknown types), a generated
    /// stream (updates, deletes, aggregates) and tombstones, on several partitions: a rebuild
    /// swapped over the views a live worker built gives the same digests, checkpoints included.
    /// Rows fed by several partitions hold only order-independent operations (pipelines/README.md,
    /// "Order across partitions and topics"), and digests compare reals to 12 significant digits,
    /// so sums added in another interleaving still agree.
    @Test("rebuild equals live", arguments: ["order_summary", "inventory", "audit_trail", "customer_stats", "order_saga"])
    func rebuildEqualsLive(pipeline: String) throws {
        try checkRebuildEqualsLive(pipeline, partitions: 3)
    }

    /// The same with windows of 32 KiB: the rebuild writes its shadow many times, each window's
    /// rows once with the window's checkpoints, on a second connection while the next window
    /// fills, except for a pipeline with timers (they read key ranges of the shadow).
    @Test("rebuild in small memory windows equals live", arguments: ["order_summary", "inventory", "audit_trail", "customer_stats", "order_saga", "order_saga_reactor"])
    func rebuildInSmallWindowsEqualsLive(pipeline: String) throws {
        try checkRebuildEqualsLive(pipeline, partitions: 3, memoryBudget: 32 << 10)
    }

    private func checkRebuildEqualsLive(_ pipeline: String, partitions: Int, memoryBudget: Int = RebuildOptions.defaultMemoryBudget) throws {
        let plan = try RebuildSupport.plan(pipeline)
        let fixture = try RebuildSupport.cluster(plan.topics.map { ($0, partitions) } + plan.emitTopics.map { ($0, 1) })
        try RebuildSupport.produce(try RebuildSupport.events(topics: plan.topics, generated: 3_000), brokers: fixture.bootstrapServers)
        let database = try TemporaryDatabase()
        try RebuildSupport.runLive(plan, path: database.path, brokers: fixture.bootstrapServers)
        let live = try RebuildSupport.snapshot(plan, path: database.path)
        #expect(live.digests.contains { $0.rowCount > 0 })

        let summary = try RebuildSupport.rebuild(plan, path: database.path, brokers: fixture.bootstrapServers) {
            $0.maxBatchMessages = 500
            $0.memoryBudget = memoryBudget
        }
        #expect(summary.outcome == .swapped)
        #expect(summary.checkpoints == live.checkpoints)
        if memoryBudget < 1 << 20 {
            // A window written while the next fills, but not for a pipeline with timers (they read
            // key ranges of the shadow); a pipeline of few rows may fill no window before the end.
            if pipeline == "order_summary" || plan.timersView != nil { #expect(summary.windowsWritten > 1) }
            if plan.timersView != nil || summary.windowsWritten < 2 {
                #expect(summary.windowsWrittenWhileReading == 0)
            } else {
                #expect(summary.windowsWrittenWhileReading > 0)
            }
        }
        let rebuilt = try RebuildSupport.snapshot(plan, path: database.path)
        #expect(rebuilt.checkpoints == live.checkpoints)
        #expect(rebuilt.digests == live.digests)
        let status = try SQLiteViewStore(path: database.path).pipelines().first { $0.name == plan.name }
        #expect(status?.rebuiltAt != nil)
        #expect(status?.shadow == nil)
    }

    /// A window reaches SQLite in each table's key order (`SQLiteViewTransaction.writesFasterInKeyOrder`):
    /// the rows of a one-window rebuild take their rowids in key order, not in the order the log
    /// touched them.
    @Test("a window's rows are written in key order")
    func windowRowsInKeyOrder() throws {
        let plan = try RebuildSupport.plan("order_summary")
        let fixture = try RebuildSupport.cluster(plan.topics.map { ($0, 3) })
        try RebuildSupport.produce(try RebuildSupport.events(topics: plan.topics, generated: 3_000), brokers: fixture.bootstrapServers)
        let database = try TemporaryDatabase()
        let summary = try RebuildSupport.rebuild(plan, path: database.path, brokers: fixture.bootstrapServers) { $0.maxBatchMessages = 500 }
        #expect(summary.outcome == .swapped && summary.windowsWritten == 1)
        for (table, key) in [("order_summary", "order_id"), ("customer_stats", "customer_id")] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            process.arguments = ["-readonly", database.path, "SELECT \(key) FROM \(table) ORDER BY rowid"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let keys = text.split(separator: "\n").map(String.init)
            #expect(process.terminationStatus == 0 && keys.count > 10)
            let inKeyOrder = keys == keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            #expect(inKeyOrder, "\(table) in rowid order begins \(keys.prefix(5))")
        }
    }

    /// A live worker keeps applying new events while the rebuild runs and swaps; a reader checks an
    /// invariant across rows the whole time. No reader sees a partial view, the worker goes on from
    /// the swapped checkpoints without a restart, and the result equals one uninterrupted run.
    @Test("rebuild while a live worker runs and events keep arriving")
    func rebuildUnderLoad() throws {
        let plan = try RebuildSupport.ledger()
        let fixture = try RebuildSupport.cluster([("deposits", 4)])
        let brokers = fixture.bootstrapServers
        let initial = 6_000
        try RebuildSupport.produce((0 ..< initial).map { RebuildSupport.deposit($0) }, brokers: brokers)
        let database = try TemporaryDatabase()
        let path = database.path

        let stopWorker = ShutdownSignal()
        let worker = BackgroundThread("live worker") {
            try Worker(projection: plan, store: try SQLiteViewStore(path: path),
                       configuration: WorkerConfiguration(brokers: brokers, groupID: "live-\(UUID().uuidString)", maxBatchMessages: 200))
                .run(until: stopWorker)
        }
        try waitUntil(deadline: .seconds(30), "the live worker to apply the first events") {
            (try? SQLiteViewStore(path: path, configuration: .init(isReadOnly: true)).checkpoints(pipeline: "ledger"))?
                .reduce(0) { $0 + $1.nextOffset } ?? 0 >= Int64(initial)
        }

        let stopLoad = ShutdownSignal()
        let produced = BackgroundThread("producer") { () -> Int in
            var next = initial
            while !stopLoad.isTriggered {
                try RebuildSupport.produce((next ..< next + 50).map { RebuildSupport.deposit($0) }, brokers: brokers)
                next += 50
            }
            return next
        }
        let reads = BackgroundThread("reader") { () -> (checks: Int, violations: [String]) in
            let reader = try SQLiteViewStore(path: path, configuration: .init(isReadOnly: true))
            var checks = 0
            var violations: [String] = []
            while !stopLoad.isTriggered {
                let rows = try reader.rows(ofView: "balances").rows
                var amount: Int64 = 0
                var events: Int64 = 0
                var total: (Int64, Int64)?
                for row in rows {
                    guard case .text(let id) = row[0], case .integer(let a) = row[1], case .integer(let e) = row[2] else {
                        violations.append("unexpected row \(row)")
                        continue
                    }
                    if id == "~total" { total = (a, e) } else { amount += a; events += e }
                }
                if let total, total != (amount, events) {
                    violations.append("total \(total) but the accounts sum to \((amount, events))")
                }
                checks += 1
            }
            return (checks, violations)
        }

        let summary = try RebuildSupport.rebuild(plan, path: path, brokers: brokers) { $0.maxBatchMessages = 300 }
        #expect(summary.outcome == .swapped)
        stopLoad.trigger()
        let total = try produced.join()
        let read = try reads.join()
        #expect(total > initial)
        #expect(read.violations.isEmpty, "\(read.violations.prefix(3))")
        #expect(read.checks > 0)

        try waitUntil(deadline: .seconds(30), "the live worker to apply every event") {
            try SQLiteViewStore(path: path, configuration: .init(isReadOnly: true)).checkpoints(pipeline: "ledger")
                .reduce(0) { $0 + $1.nextOffset } == Int64(total)
        }
        stopWorker.trigger()
        _ = try worker.join()

        var expected: [String: (Int64, Int64)] = [:]
        for index in 0 ..< total {
            for id in ["a-\(index % 37)", "~total"] {
                expected[id, default: (0, 0)].0 += Int64(index % 100 + 1)
                expected[id, default: (0, 0)].1 += 1
            }
        }
        let rows = try SQLiteViewStore(path: path, configuration: .init(isReadOnly: true)).rows(ofView: "balances").rows
        #expect(rows.count == expected.count)
        for row in rows {
            guard case .text(let id) = row[0] else { continue }
            #expect(row == [.text(id), .integer(expected[id]?.0 ?? -1), .integer(expected[id]?.1 ?? -1)], "\(id)")
        }
        let uninterrupted = try TemporaryDatabase()
        #expect(try RebuildSupport.rebuild(plan, path: uninterrupted.path, brokers: brokers).outcome == .swapped)
        #expect(try RebuildSupport.snapshot(plan, path: uninterrupted.path).digests == RebuildSupport.snapshot(plan, path: path).digests)
    }

    /// A rebuild stopped midway leaves the live views untouched; run again, it resumes from the
    /// shadow's checkpoints and equals an uninterrupted rebuild.
    @Test("a stopped rebuild resumes and equals")
    func stoppedRebuildResumes() throws {
        let plan = try RebuildSupport.plan("inventory")
        let fixture = try RebuildSupport.cluster([("inventory", 3)])
        let brokers = fixture.bootstrapServers
        try RebuildSupport.produce(try RebuildSupport.events(topics: ["inventory"], generated: 6_000), brokers: brokers)
        let reference = try TemporaryDatabase()
        #expect(try RebuildSupport.rebuild(plan, path: reference.path, brokers: brokers).outcome == .swapped)
        let expected = try RebuildSupport.snapshot(plan, path: reference.path)

        let database = try TemporaryDatabase()
        let signal = ShutdownSignal()
        let batches = Atomic<Int>(0)
        let stopped = try Rebuild(
            projection: plan, store: try SQLiteViewStore(path: database.path),
            options: RebuildOptions(brokers: brokers, maxBatchMessages: 100),
            onProgress: { _ in if batches.add(1, ordering: .relaxed).newValue == 3 { signal.trigger() } }
        ).run(until: signal)
        #expect(stopped.outcome == .stopped)
        #expect(stopped.events == 300)
        let store = try SQLiteViewStore(path: database.path)
        #expect(try store.checkpoints(pipeline: plan.name, target: .shadow).reduce(0) { $0 + $1.nextOffset } == 300)
        #expect(try store.checkpoints(pipeline: plan.name).isEmpty)
        #expect(try store.pipelines().isEmpty)

        let resumed = try RebuildSupport.rebuild(plan, path: database.path, brokers: brokers)
        #expect(resumed.outcome == .swapped)
        #expect(resumed.wasResumed)
        #expect(resumed.events == expected.checkpoints.reduce(0) { $0 + Int($1.nextOffset) } - 300)
        let rebuilt = try RebuildSupport.snapshot(plan, path: database.path)
        #expect(rebuilt.digests == expected.digests)
        #expect(rebuilt.checkpoints == expected.checkpoints)

        let restarted = try RebuildSupport.rebuild(plan, path: database.path, brokers: brokers) { $0.restarts = true }
        #expect(!restarted.wasResumed)
        #expect(try RebuildSupport.snapshot(plan, path: database.path).digests == expected.digests)
    }

    /// `--until topic:partition:offset,...` equals a run over exactly the events before them.
    @Test("--until offsets equals a run over that prefix")
    func untilOffsets() throws {
        let plan = try RebuildSupport.ledger()
        let fixture = try RebuildSupport.cluster([("deposits", 3)])
        let brokers = fixture.bootstrapServers
        try RebuildSupport.produce((0 ..< 2_500).map { RebuildSupport.deposit($0) }, brokers: brokers)
        let prefix = try TemporaryDatabase()
        #expect(try RebuildSupport.rebuild(plan, path: prefix.path, brokers: brokers).outcome == .swapped)
        let expected = try RebuildSupport.snapshot(plan, path: prefix.path)
        let cut = try RebuildSupport.highWatermarks("deposits", partitions: 3, brokers: brokers)
        try RebuildSupport.produce((2_500 ..< 5_000).map { RebuildSupport.deposit($0) }, brokers: brokers)

        let text = cut.map { "\($0.topic):\($0.partition):\($0.nextOffset)" }.joined(separator: ",")
        let into = try TemporaryDatabase()
        let summary = try RebuildSupport.rebuild(plan, path: into.path, brokers: brokers) {
            $0.until = try? UntilPosition(parsing: text)
        }
        #expect(summary.outcome == .swapped)
        let rebuilt = try RebuildSupport.snapshot(plan, path: into.path)
        #expect(rebuilt.digests == expected.digests)
        #expect(rebuilt.checkpoints == cut)

        let partial = try UntilPosition(parsing: cut.dropLast().map { "\($0.topic):\($0.partition):\($0.nextOffset)" }.joined(separator: ","))
        let error = try #require(throws: ProjectorError.self) {
            try RebuildSupport.rebuild(plan, path: into.path, brokers: brokers) { $0.until = partial }
        }
        #expect(error.code == .usage)
        #expect(error.message.contains("missing deposits:2"))
    }

    /// `--until TIME` equals a run over the events with a Kafka timestamp at or before it. The mock
    /// answers offsets-for-times with -1, so this runs the fallback: read timestamps and stop each
    /// partition at its first later message.
    @Test("--until a time equals a run over that prefix (timestamp fallback on the mock)")
    func untilTime() throws {
        let plan = try RebuildSupport.ledger()
        let fixture = try RebuildSupport.cluster([("deposits", 3)])
        let brokers = fixture.bootstrapServers
        let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: brokers))
        let lookup = try consumer.offsets(forTimes: [KafkaTopicPartition(topic: "deposits", partition: 0): 0], timeout: .seconds(5))
        #expect(lookup.values.allSatisfy { $0 == nil }, "the mock now answers offsets-for-times; the fallback is no longer exercised")
        try consumer.close()

        let moment: Int64 = 1_793_491_200_000  // 2026-11-01T00:00:00Z
        try RebuildSupport.produce((0 ..< 1_500).map { RebuildSupport.deposit($0, timestamp: moment - 1_500 + Int64($0) + 1) }, brokers: brokers)
        let prefix = try TemporaryDatabase()
        #expect(try RebuildSupport.rebuild(plan, path: prefix.path, brokers: brokers).outcome == .swapped)
        let expected = try RebuildSupport.snapshot(plan, path: prefix.path)
        try RebuildSupport.produce((1_500 ..< 3_000).map { RebuildSupport.deposit($0, timestamp: moment + Int64($0)) }, brokers: brokers)

        let until = try UntilPosition(parsing: "2026-11-01T00:00:00Z")
        #expect(until == .time(milliseconds: moment))
        let into = try TemporaryDatabase()
        #expect(try RebuildSupport.rebuild(plan, path: into.path, brokers: brokers) { $0.until = until }.outcome == .swapped)
        let rebuilt = try RebuildSupport.snapshot(plan, path: into.path)
        #expect(rebuilt.digests == expected.digests)
        #expect(rebuilt.checkpoints == expected.checkpoints)
    }

    /// A new version of a pipeline goes live by a rebuild: `run` refuses it before the swap and
    /// runs it after.
    @Test("a new pipeline version refuses run until rebuild swaps it in")
    func newVersionGoesLiveByRebuild() throws {
        let version1 = try RebuildSupport.ledger()
        let version2 = try RebuildSupport.ledger(version: 2)
        let fixture = try RebuildSupport.cluster([("deposits", 2)])
        let brokers = fixture.bootstrapServers
        try RebuildSupport.produce((0 ..< 500).map { RebuildSupport.deposit($0) }, brokers: brokers)
        let database = try TemporaryDatabase()
        #expect(try RebuildSupport.rebuild(version1, path: database.path, brokers: brokers).outcome == .swapped)

        let refused = try #require(throws: ProjectorError.self) {
            try RebuildSupport.runLive(version2, path: database.path, brokers: brokers)
        }
        #expect(refused.message.contains("rebuild"))
        #expect(try SQLiteViewStore(path: database.path).pipelines().first?.hash == version1.definitionHash)

        #expect(try RebuildSupport.rebuild(version2, path: database.path, brokers: brokers).outcome == .swapped)
        let status = try #require(try SQLiteViewStore(path: database.path).pipelines().first)
        #expect(status.version == 2)
        #expect(status.hash == version2.definitionHash)
        try RebuildSupport.produce((500 ..< 600).map { RebuildSupport.deposit($0) }, brokers: brokers)
        let progress = try RebuildSupport.runLive(version2, path: database.path, brokers: brokers)
        #expect(progress.messages == 100)
        let total = try SQLiteViewStore(path: database.path).row(inView: "balances", key: [.text("~total")])
        #expect(total?[2] == .integer(600))
    }

    @Test("--until parses times and offsets, and says what it expects",
          arguments: ["2026-11-01T00:00:00Z", "2026-11-01T01:00:00+01:00", "2026-11-01T00:00:00.000Z"])
    func parsesTimes(text: String) throws {
        #expect(try UntilPosition(parsing: text) == .time(milliseconds: 1_793_491_200_000))
    }

    @Test("--memory parses binary sizes and says what it expects")
    func memorySizes() throws {
        #expect(try MemorySize.bytes(parsing: "512MiB") == 512 << 20)
        #expect(try MemorySize.bytes(parsing: "1GiB") == 1 << 30)
        #expect(try MemorySize.bytes(parsing: "2 gib") == 2 << 30)
        #expect(try MemorySize.bytes(parsing: "1048576B") == 1 << 20)
        for (text, says) in [("512MB", "MiB, not MB"), ("512", "expected a size like 512MiB"), ("lots", "expected a size"),
                             ("-1MiB", "expected a size"), ("512KiB", "at least 1MiB"), ("99999999999TiB", "too large")] {
            let error = try #require(throws: ProjectorError.self) { try MemorySize.bytes(parsing: text) }
            #expect(error.code == .usage && error.message.contains(says), "\(text): \(error.message)")
        }
    }

    @Test("--until parses offsets")
    func parsesOffsets() throws {
        #expect(try UntilPosition(parsing: "orders:0:12,my.topic:1:0") == .offsets([
            Checkpoint(topic: "orders", partition: 0, nextOffset: 12), Checkpoint(topic: "my.topic", partition: 1, nextOffset: 0),
        ]))
        for bad in ["yesterday", "orders:0", "orders:x:1", "orders:0:1,orders:0:2", ":0:1"] {
            let error = try #require(throws: ProjectorError.self) { try UntilPosition(parsing: bad) }
            #expect(error.code == .usage, "\(bad)")
        }
    }
}
