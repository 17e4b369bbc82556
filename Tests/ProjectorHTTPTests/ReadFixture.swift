import Foundation
import KafkaClient
import Logging
import PostgresViews
import Projector
import ProjectorHTTP
import ProjectorModel
import ProjectorTestSupport
import ProjectorTesting
import Testing
import Views

/// The stores a read test body runs against: the same requests, the same answers.
enum ReadStoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    /// A real SQLite file.
    case sqlite
    /// A new schema on the test server (`TestPostgres`); in CI a missing server fails the test.
    case postgres

    var testDescription: String { rawValue }

    /// The kinds that run here: PostgreSQL only with a server, or in CI (where it then fails).
    static var allCases: [ReadStoreKind] {
        TestPostgres.isEnabled ? [.sqlite, .postgres] : [.sqlite]
    }
}

/// A real store (an SQLite file, or a schema of the test PostgreSQL server) written as a worker
/// writes it and served by the read API on a loopback port (port 0), read through other,
/// read-only connections, as `projector serve` does.
///
/// Pipeline `shop` reads topic `orders` (partitions 0 and 1) and writes:
/// - `items`: key `sku`; `name` text, `price` real, `stock` integer, `active` boolean, `tags` json, `note` text;
/// - `lines`: key (`order_id`, `line`); `qty` integer.
final class ReadFixture {
    static let items = ViewDefinition(
        name: "items",
        columns: [
            ColumnDefinition(name: "sku", type: .text, defaultValue: .null),
            ColumnDefinition(name: "name", type: .text, defaultValue: .null),
            ColumnDefinition(name: "price", type: .real, defaultValue: .real(0)),
            ColumnDefinition(name: "stock", type: .integer, defaultValue: .integer(0)),
            ColumnDefinition(name: "active", type: .boolean, defaultValue: .integer(0)),
            ColumnDefinition(name: "tags", type: .json, defaultValue: .null),
            ColumnDefinition(name: "note", type: .text, defaultValue: .null),
        ],
        keyColumns: [0])
    static let lines = ViewDefinition(
        name: "lines",
        columns: [
            ColumnDefinition(name: "order_id", type: .text, defaultValue: .null),
            ColumnDefinition(name: "line", type: .integer, defaultValue: .integer(0)),
            ColumnDefinition(name: "qty", type: .integer, defaultValue: .integer(0)),
        ],
        keyColumns: [0, 1])

    let temporary: TemporaryDatabase?
    let store: any ViewStore
    let service: OperationsService
    let port: Int
    let readers: [any ViewStoreReader]

    init(_ kind: ReadStoreKind = .sqlite, limits: ReadLimits = ReadLimits(), bearerToken: String? = nil,
         messageKeyed: Set<String> = [], partitioner: KeyPartitioner = KeyPartitioner()) throws {
        switch kind {
        case .sqlite:
            let temporary = try TemporaryDatabase()
            self.temporary = temporary
            store = try SQLiteViewStore(path: temporary.path)
            readers = try (0 ..< 2).map { _ in try SQLiteViewStore(path: temporary.path, configuration: .init(isReadOnly: true)) }
        case .postgres:
            let location = try TestPostgres.newSchema(prefix: "read")
            temporary = nil
            store = try PostgresViewStore(location: location)
            readers = try (0 ..< 2).map { _ in try PostgresViewStore(location: location, configuration: .init(isReadOnly: true)) }
        }
        try store.prepare(pipeline: "shop", version: 1, hash: "sha256:shop", views: [Self.items, Self.lines])
        let server = OperationsServer(
            metrics: RuntimeMetrics(), version: "test", readyMaxLagSeconds: nil,
            readAPI: ReadAPI(stores: readers, limits: limits, bearerToken: bearerToken, pipelineTopics: ["shop": ["orders"]],
                             messageKeyedViews: messageKeyed, partitioner: partitioner))
        (service, port) = try OperationsService.start(server, host: "127.0.0.1", port: 0, logger: Logger(label: "test.http"))
    }

    deinit { service.stop() }

    /// An `items` row: sku, name, price, stock, active, tags (JSON text), note.
    static func item(_ sku: String, _ name: String, price: Double, stock: Int64, active: Bool, tags: String?, note: String?) -> ViewChange {
        ViewChange(view: 0, key: [.text(sku)], row: [
            .text(sku), .text(name), .real(price), .integer(stock), .integer(active ? 1 : 0),
            tags.map { .text($0) } ?? .null, note.map { .text($0) } ?? .null,
        ])
    }

    /// Writes `changes` and sets `orders` partition checkpoints, in one transaction as a worker does.
    func write(_ changes: [ViewChange], checkpoints: [Int32: Int64] = [:], target: ViewTarget = .live) throws {
        try store.write(pipeline: "shop", target: target) { transaction in
            try transaction.apply(changes)
            try transaction.setCheckpoints(checkpoints.map { Checkpoint(topic: "orders", partition: $0.key, nextOffset: $0.value) })
        }
    }

    /// GET `path` on the server.
    func get(_ path: String, headers: [String: String] = [:], timeout: Duration = .seconds(30)) throws -> HTTPAnswer {
        try httpGet("http://127.0.0.1:\(port)\(path)", headers: headers, timeout: timeout)
    }

    /// A position token for `orders` partitions.
    static func token(_ offsets: [Int32: Int64]) -> String {
        KafkaPosition(offsets: ["orders": offsets]).token
    }
}

/// The read API suites, one test at a time: each serves HTTP in this process and its test body
/// blocks a thread of the cooperative pool on a request (2 threads on 2 cores), so two at once
/// could leave no thread for the server's handlers.
@Suite("read API over HTTP", .serialized)
struct ReadServerTests {}
