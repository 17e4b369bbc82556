import Foundation
import GRDB
import Pipelines
import PostgresViews
import ProjectorTestSupport
import ProjectorTesting
import Testing
@testable import Views
import ProjectorModel

/// Every store kind a store test runs against: the same bodies run against SQLite and PostgreSQL.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqliteFile
    case sqliteMemory
    /// A new schema on the test server (`TestPostgres`); in CI a missing server fails the test.
    case postgres

    var testDescription: String { rawValue }

    /// The kinds that run here: PostgreSQL only with a server, or in CI (where it then fails).
    static var allCases: [StoreKind] {
        TestPostgres.isEnabled ? [.sqliteFile, .sqliteMemory, .postgres] : [.sqliteFile, .sqliteMemory]
    }

    /// Opens an empty store of this kind; keep `temporary` alive as long as the store.
    func open(configuration: SQLiteViewStore.Configuration = .init()) throws -> OpenStore {
        switch self {
        case .sqliteFile:
            let temporary = try TemporaryDatabase()
            return OpenStore(store: try SQLiteViewStore(path: temporary.path, configuration: configuration), temporary: temporary)
        case .sqliteMemory:
            return OpenStore(store: try SQLiteViewStore.inMemory(configuration: configuration), temporary: nil)
        case .postgres:
            let location = try TestPostgres.newSchema()
            let timeout = configuration.busyTimeout
            return OpenStore(store: try PostgresViewStore(location: location, configuration: .init(lockTimeout: timeout)), temporary: nil)
        }
    }

    /// Opens another connection to the same store (another process's view of it).
    func reopen(_ opened: OpenStore, readOnly: Bool = false) throws -> any ViewStore {
        switch opened.store {
        case let postgres as PostgresViewStore:
            return try PostgresViewStore(location: postgres.location, configuration: .init(isReadOnly: readOnly))
        default:
            guard let path = opened.temporary?.path else { throw Boom() }
            return try SQLiteViewStore(path: path, configuration: .init(isReadOnly: readOnly))
        }
    }
}

struct OpenStore {
    let store: any ViewStore
    let temporary: TemporaryDatabase?

    /// Runs the user's own SQL on the store's database, as someone sharing the file would.
    func execute(_ sql: String) throws {
        if let postgres = store as? PostgresViewStore {
            try TestPostgres.psql(postgres.location, sql)
            return
        }
        guard let sqlite = store as? SQLiteViewStore else { Issue.record("no SQL access to \(store)"); return }
        try sqlite.queue.write { db in try db.execute(sql: sql) }
    }

    /// Reads one text column of the user's own query.
    func texts(_ sql: String) throws -> [String] {
        if let postgres = store as? PostgresViewStore {
            return try TestPostgres.psql(postgres.location, sql)
        }
        guard let sqlite = store as? SQLiteViewStore else { Issue.record("no SQL access to \(store)"); return [] }
        return try sqlite.queue.read { db in try String.fetchAll(db, sql: sql) }
    }
}

/// The example pipeline's views (as in pipelines/order_summary.yaml): a text-keyed and a text-keyed aggregate view.
enum Orders {
    /// A connection to the SQLite file at `path` with the pipeline prepared (another process's
    /// connection when the file has one already).
    static func preparedStore(_ path: String, configuration: SQLiteViewStore.Configuration = .init()) throws -> SQLiteViewStore {
        let store = try SQLiteViewStore(path: path, configuration: configuration)
        try store.prepare(pipeline: name, version: 1, hash: hash, views: views)
        return store
    }

    static let name = "order_summary"
    static let hash = "sha256:aaaa"
    static let otherHash = "sha256:bbbb"

    static let summary = ViewDefinition(
        name: "order_summary",
        columns: [
            ColumnDefinition(name: "order_id", type: .text, defaultValue: .null),
            ColumnDefinition(name: "customer_id", type: .text, defaultValue: .null),
            ColumnDefinition(name: "status", type: .text, defaultValue: .null),
            ColumnDefinition(name: "total", type: .real, defaultValue: .real(0)),
            ColumnDefinition(name: "items", type: .integer, defaultValue: .integer(0)),
            ColumnDefinition(name: "updated_at", type: .text, defaultValue: .null),
        ],
        keyColumns: [0])

    static let customers = ViewDefinition(
        name: "customer_stats",
        columns: [
            ColumnDefinition(name: "customer_id", type: .text, defaultValue: .null),
            ColumnDefinition(name: "orders", type: .integer, defaultValue: .integer(0)),
            ColumnDefinition(name: "revenue", type: .real, defaultValue: .real(0)),
        ],
        keyColumns: [0])

    static let views = [summary, customers]

    static func order(_ id: String, customer: String = "c1", status: String = "created", total: Double = 10, items: Int64 = 1) -> ViewChange {
        ViewChange(
            view: 0, key: [.text(id)],
            row: [.text(id), .text(customer), .text(status), .real(total), .integer(items), .text("2026-01-01T00:00:00Z")])
    }

    static func deleteOrder(_ id: String) -> ViewChange {
        ViewChange(view: 0, key: [.text(id)], row: nil)
    }

    static func customer(_ id: String, orders: Int64, revenue: Double) -> ViewChange {
        ViewChange(view: 1, key: [.text(id)], row: [.text(id), .integer(orders), .real(revenue)])
    }
}

struct Boom: Error, Equatable {}
