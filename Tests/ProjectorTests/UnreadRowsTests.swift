import Foundation
import Synchronization
import Pipelines
import PostgresViews
@testable import Projector
import ProjectorModel
import ProjectorTestSupport
import ProjectorTesting
import Testing
import Views

/// A live batch leaves unread the rows an upsert overwrites without reading them, and writes
/// only the columns it gave (`ViewChange.assignedColumns`): the views equal those of the same
/// batches run reading every row, on SQLite and PostgreSQL.
@Suite struct UnreadRowsTests {
    /// The order_summary example pipeline.
    static func plan() throws -> Plan {
        Plan(try Pipeline.load(path: ProjectorExecutable.repositoryRoot.appendingPathComponent("pipelines/order_summary.yaml").path))
    }

    static func created(_ order: String, customer: String, total: String = "10.5") -> [UInt8] {
        Array(#"{"eventType":"OrderCreated","version":2,"timestamp":"2026-11-01T10:00:00Z","data":{"orderId":"\#(order)","customerId":"\#(customer)","totalAmount":\#(total),"currency":"EUR","items":[{"quantity":2}]}}"#.utf8)
    }

    static func shipped(_ order: String, carrier: String) -> [UInt8] {
        Array(#"{"eventType":"OrderShipped","version":2,"timestamp":"2026-11-01T11:00:00Z","data":{"orderId":"\#(order)","carrier":"\#(carrier)"}}"#.utf8)
    }

    static func cancelled(_ order: String) -> [UInt8] {
        Array(#"{"eventType":"OrderCancelled","version":2,"timestamp":"2026-11-01T12:00:00Z","data":{"orderId":"\#(order)"}}"#.utf8)
    }

    /// The first batch stores orders 1–4 (order 1 shipped by UPS); the second runs over them on
    /// a new connection (nothing cached): order 1 created again (its carrier must stay), order 2
    /// shipped (a `when` on a row not in the batch), order 3 created and cancelled, order 4
    /// created, created again with a total that fails the event after its first upsert, then
    /// shipped (a `when` on a column the batch wrote), order 5 new.
    static let batches: [[[UInt8]]] = [
        [created("o-1", customer: "c-1"), created("o-2", customer: "c-2"), created("o-3", customer: "c-1"),
         created("o-4", customer: "c-3"), shipped("o-1", carrier: "UPS")],
        [created("o-1", customer: "c-2", total: "7.25"), shipped("o-2", carrier: "DHL"), created("o-3", customer: "c-3"),
         cancelled("o-3"), created("o-4", customer: "c-1", total: "3"), created("o-4", customer: "c-2", total: #""abc""#),
         shipped("o-4", carrier: "GLS"), created("o-5", customer: "c-4")],
    ]

    /// Runs `batches` into the store `open` gives for each batch (a new connection: nothing cached).
    static func run(_ projection: any Projection, _ open: () throws -> any ViewStore) throws {
        var first: Int64 = 0
        for batch in batches {
            let store = try open()
            try store.prepare(pipeline: projection.name, version: projection.version, hash: projection.definitionHash, views: projection.views)
            try BatchMessages.apply(batch, first: first, BatchApplier(projection: projection, store: store, target: .live))
            first += Int64(batch.count)
        }
    }

    @Test("rows an upsert overwrites are not read, and keep the columns it does not write")
    func sqliteEqualsReadingEveryRow() throws {
        let plan = try Self.plan()
        let unread = try TemporaryDatabase()
        let reading = try TemporaryDatabase()
        let counted = ReadCounting(plan: plan, forwardsCapabilities: true)
        try Self.run(counted) { try SQLiteViewStore(path: unread.path) }
        let everyRow = ReadCounting(plan: plan, forwardsCapabilities: false)
        try Self.run(everyRow) { try SQLiteViewStore(path: reading.path) }

        // The second batch reads order 2 only (its `when`); reading every row reads orders 1–5.
        #expect(counted.reads.withLock { $0[1] } == ["order_summary": 1, "customer_stats": 4])
        #expect(everyRow.reads.withLock { $0[1] } == ["order_summary": 5, "customer_stats": 4])
        let store = try SQLiteViewStore(path: unread.path, configuration: .init(isReadOnly: true))
        let other = try SQLiteViewStore(path: reading.path, configuration: .init(isReadOnly: true))
        for view in ["order_summary", "customer_stats"] {
            #expect(try store.digest(ofView: view) == other.digest(ofView: view), "\(view)")
        }
        let rows = try ["o-1", "o-2", "o-3", "o-4", "o-5"].map { try store.row(inView: "order_summary", key: [.text($0)]) }
        // Columns: order_id, customer_id, status, total, currency, items, quantity, updated_at, carrier.
        #expect(rows[0]?[2] == .text("created") && rows[0]?[8] == .text("UPS"), "created again: status written, carrier kept")
        #expect(rows[0]?[1] == .text("c-2") && rows[0]?[3] == .real(7.25))
        #expect(rows[1]?[2] == .text("shipped") && rows[1]?[8] == .text("DHL"))
        #expect(rows[2] == nil, "created and cancelled in one batch")
        #expect(rows[3]?[1] == .text("c-1") && rows[3]?[3] == .real(3) && rows[3]?[8] == .text("GLS"),
                "the failed event's upserts rolled back")
        #expect(rows[4]?[8] == .text("none"), "a new row takes the defaults")
        #expect(try store.deadLetters(pipeline: plan.name, limit: nil).count == 1)
    }

    @Test("PostgreSQL writes the same views from rows it did not read", .enabled(if: TestPostgres.isEnabled))
    func postgresEqualsSQLite() throws {
        let plan = try Self.plan()
        let postgres = try PostgresViewStore(location: try TestPostgres.newSchema(prefix: "unread"))
        let database = try TemporaryDatabase()
        try Self.run(plan) { postgres }
        try Self.run(ReadCounting(plan: plan, forwardsCapabilities: false)) { try SQLiteViewStore(path: database.path) }
        let sqlite = try SQLiteViewStore(path: database.path, configuration: .init(isReadOnly: true))
        for view in ["order_summary", "customer_stats"] {
            #expect(try postgres.digest(ofView: view) == sqlite.digest(ofView: view), "\(view)")
        }
    }
}

/// Runs a plan through a reader that counts the store's row reads per batch and table; without
/// `forwardsCapabilities` it hides that the store writes assigned columns, so every row is read.
final class ReadCounting: Projection {
    let plan: Plan
    let forwardsCapabilities: Bool
    let reads = Mutex<[[String: Int]]>([])

    init(plan: Plan, forwardsCapabilities: Bool) {
        self.plan = plan
        self.forwardsCapabilities = forwardsCapabilities
    }

    var name: String { plan.name }
    var version: Int { plan.version }
    var definitionHash: String { plan.definitionHash }
    var topics: [String] { plan.topics }
    var views: [ViewDefinition] { plan.views }
    var errorPolicy: ErrorPolicy { plan.errorPolicy }

    func run(_ messages: UnsafeBufferPointer<RawMessage>, rows: inout some RowReader) throws -> PlanResult {
        var counting = Counting(base: rows, names: plan.views.map(\.name), forwards: forwardsCapabilities)
        defer {
            rows = counting.base
            reads.withLock { $0.append(counting.reads) }
        }
        return try plan.run(messages, rows: &counting)
    }

    private struct Counting<Base: RowReader>: RowReader {
        var base: Base
        let names: [String]
        let forwards: Bool
        var reads: [String: Int] = [:]

        mutating func row(in view: Int, key: [ViewValue]) throws -> [ViewValue]? {
            reads[names[view], default: 0] += 1
            return try base.row(in: view, key: key)
        }

        mutating func rows(in view: Int, keyPrefix: [ViewValue], upTo: ViewValue) throws -> [[ViewValue]] {
            try base.rows(in: view, keyPrefix: keyPrefix, upTo: upTo)
        }

        var writesAssignedColumns: Bool { forwards && base.writesAssignedColumns }

        mutating func knownRow(in view: Int, key: [ViewValue]) -> [ViewValue]?? {
            forwards ? base.knownRow(in: view, key: key) : nil
        }
    }
}
