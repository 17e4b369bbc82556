import Foundation
import GRDB
import Pipelines
import ProjectorTesting
import Testing
@testable import Views
import ProjectorModel

/// Upserts per second through `write`/`apply`, printed for the report. Off by default:
///
///     PROJECTOR_VIEWS_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter ThroughputTests
@Suite("View store throughput", .enabled(if: ProcessInfo.processInfo.environment["PROJECTOR_VIEWS_BENCH"] != nil), .serialized)
struct ThroughputTests {
    static let rowCount = 200_000
    static let batchSize = 1000

    /// Order ids in a scrambled but fixed order, like aggregate ids arriving from Kafka.
    static let ids: [String] = {
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        var ids = (0..<rowCount).map { String(format: "order-%07d", $0) }
        for index in stride(from: ids.count - 1, to: 0, by: -1) {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            ids.swapAt(index, Int(state >> 33) % (index + 1))
        }
        return ids
    }()

    /// Pass 0 inserts; pass 1 updates every row with a longer status (the record changes size);
    /// pass 2 reads then updates every row keeping the record size (SQLite may overwrite in place).
    static func changes(pass: Int) -> [[ViewChange]] {
        stride(from: 0, to: rowCount, by: batchSize).map { start in
            ids[start..<start + batchSize].enumerated().map { offset, id in
                Orders.order(id, customer: "customer-\(offset % 97)", status: ["created", "delivered", "cancelled"][pass],
                             total: Double(offset) * 1.25, items: Int64(pass))
            }
        }
    }

    struct Variant: Sendable {
        var name: String
        var configuration: SQLiteViewStore.Configuration
    }

    static let variants: [Variant] = {
        let chosen = SQLiteViewStore.Configuration()
        var variants = [Variant(name: "chosen (WAL, NORMAL, 64 MiB cache, autocheckpoint 10000, ON CONFLICT, rowid tables)", configuration: chosen)]
        variants.append(Variant(name: "SQLite defaults (rollback journal, FULL, 2 MB cache)", configuration: .sqliteDefaults))
        var walDefaults = chosen
        walDefaults.cacheSizeKiB = 2000
        walDefaults.walAutocheckpointPages = 1000
        variants.append(Variant(name: "WAL NORMAL, default cache and autocheckpoint", configuration: walDefaults))
        var walFull = chosen
        walFull.synchronous = .full
        variants.append(Variant(name: "chosen but synchronous FULL", configuration: walFull))
        var replace = chosen
        replace.upsertStyle = .replace
        variants.append(Variant(name: "chosen but INSERT OR REPLACE", configuration: replace))
        var withoutRowid = chosen
        withoutRowid.usesWithoutRowid = true
        variants.append(Variant(name: "chosen but WITHOUT ROWID tables", configuration: withoutRowid))
        var smallCache = chosen
        smallCache.cacheSizeKiB = 2000
        variants.append(Variant(name: "chosen but 2 MB cache", configuration: smallCache))
        var autocheckpoint = chosen
        autocheckpoint.walAutocheckpointPages = 1000
        variants.append(Variant(name: "chosen but autocheckpoint 1000", configuration: autocheckpoint))
        // PROJECTOR_VIEWS_BENCH=chosen measures only the chosen configuration (for profiling).
        return ProcessInfo.processInfo.environment["PROJECTOR_VIEWS_BENCH"] == "chosen" ? [variants[0]] : variants
    }()

    /// Wall and process CPU seconds of `body`: CPU time stays meaningful when other builds share the cores.
    static func measure(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
        func cpuNow() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        let clock = ContinuousClock()
        let start = clock.now
        let cpuStart = cpuNow()
        try body()
        let elapsed = clock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, cpuNow() - cpuStart)
    }

    @Test("upserts per second, 200k rows in batches of 1000 (best of 2 interleaved rounds)")
    func upserts() throws {
        let passes = [(0, "insert"), (1, "update"), (2, "read+update")]
        let batchesByPass = passes.map { Self.changes(pass: $0.0) }
        var best: [[(wall: Double, cpu: Double)]] = Array(
            repeating: Array(repeating: (Double.infinity, Double.infinity), count: passes.count), count: Self.variants.count)
        for _ in 0..<2 {
            for (variantIndex, variant) in Self.variants.enumerated() {
                let temporary = try TemporaryDatabase()
                let store = try SQLiteViewStore(path: temporary.path, configuration: variant.configuration)
                try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: [Orders.summary])
                for (passIndex, (pass, _)) in passes.enumerated() {
                    var offset: Int64 = 0
                    let time = try Self.measure {
                        for batch in batchesByPass[passIndex] {
                            offset += Int64(batch.count)
                            try store.write(pipeline: Orders.name) { tx in
                                if pass == 2 {
                                    for change in batch {
                                        _ = try tx.row(in: 0, key: change.key)
                                    }
                                }
                                try tx.apply(batch)
                                try tx.setCheckpoints([Checkpoint(topic: "orders", partition: 0, nextOffset: offset)])
                            }
                        }
                    }
                    best[variantIndex][passIndex].wall = min(best[variantIndex][passIndex].wall, time.wall)
                    best[variantIndex][passIndex].cpu = min(best[variantIndex][passIndex].cpu, time.cpu)
                }
                #expect(try store.digest(ofView: "order_summary").rowCount == Self.rowCount)
            }
        }
        for (variantIndex, variant) in Self.variants.enumerated() {
            let cells = passes.indices.map { passIndex in
                let time = best[variantIndex][passIndex]
                let rate = Int(Double(Self.rowCount) / time.wall)
                let micros = time.cpu / Double(Self.rowCount) * 1e6
                return "\(passes[passIndex].1) \(rate)/s wall, \(String(format: "%.2f", micros)) µs CPU/row"
            }
            print("THROUGHPUT \(variant.name): " + cells.joined(separator: "; "))
        }
    }

    @Test("GRDB statement arguments instead of raw binds, for comparison")
    func grdbArguments() throws {
        let temporary = try TemporaryDatabase()
        let store = try SQLiteViewStore(path: temporary.path)
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: [Orders.summary])
        let batches = Self.changes(pass: 0)
        let time = try Self.measure { try store.queue.inDatabase { db in
            let statement = try db.makeStatement(sql: """
                INSERT INTO "order_summary" ("order_id", "customer_id", "status", "total", "items", "updated_at")
                VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT ("order_id") DO UPDATE SET "customer_id" = excluded."customer_id",
                "status" = excluded."status", "total" = excluded."total", "items" = excluded."items", "updated_at" = excluded."updated_at"
                """)
            for batch in batches {
                try db.inTransaction(.immediate) {
                    for change in batch {
                        let values: [(any DatabaseValueConvertible)?] = (change.row ?? []).map { value in
                            switch value {
                            case .null: nil
                            case .integer(let integer): integer
                            case .real(let real): real
                            case .text(let text): text
                            }
                        }
                        statement.setUncheckedArguments(StatementArguments(values))
                        try statement.execute()
                    }
                    return .commit
                }
            }
        } }
        print("THROUGHPUT GRDB setUncheckedArguments/execute (chosen pragmas): insert \(Int(Double(Self.rowCount) / time.wall))/s wall, "
            + String(format: "%.2f", time.cpu / Double(Self.rowCount) * 1e6) + " µs CPU/row")
    }
}
