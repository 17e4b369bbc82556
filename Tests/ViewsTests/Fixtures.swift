import Foundation
import Pipelines
import ProjectorTesting
import Testing
@testable import Views
import ProjectorModel

/// Every store kind a store test runs against.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqliteFile
    case sqliteMemory

    var testDescription: String { rawValue }

    /// Opens an empty store of this kind; keep `temporary` alive as long as the store.
    func open(configuration: SQLiteViewStore.Configuration = .init()) throws -> OpenStore {
        switch self {
        case .sqliteFile:
            let temporary = try TemporaryDatabase()
            return OpenStore(store: try SQLiteViewStore(path: temporary.path, configuration: configuration), temporary: temporary)
        case .sqliteMemory:
            return OpenStore(store: try SQLiteViewStore.inMemory(configuration: configuration), temporary: nil)
        }
    }
}

struct OpenStore {
    let store: SQLiteViewStore
    let temporary: TemporaryDatabase?
}

/// The example pipeline's views (DESIGN.md): a text-keyed and a text-keyed aggregate view.
enum Orders {
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
