internal import Foundation
internal import Logging
internal import PostgresNIO
internal import ProjectorModel
public import Views

/// The view store in a shared PostgreSQL database: workers on several machines write one set of
/// views, each batch in one transaction with its checkpoints.
///
/// Same tables and semantics as `SQLiteViewStore`: views are plain tables named after the view
/// (text `COLLATE "C"`, `bigint`, `double precision`), beside the internal tables
/// `_projector_pipelines`, `_projector_checkpoints` (with `owner` and `epoch`),
/// `_projector_dead_letters`, `_projector_counters` and `_projector_views`, all in one schema
/// (``PostgresLocation/schema``). A rebuild fills `_projector_shadow_<view>` tables under the
/// pipeline key `<pipeline>@shadow` and swaps them in with one transaction of renames.
///
/// Writers of one pipeline generation take turns: each batch transaction first takes a
/// transaction-scoped advisory lock on the pipeline key, as SQLite's write lock does. A batch
/// reads rows and then writes them; without the lock two workers aggregating into the same key
/// from different partitions would each add to the row they read and one addition would be lost.
///
/// ```swift
/// let location = try PostgresLocation(url: "postgres://projector@db:5432/views", password: secret)
/// let store = try PostgresViewStore(location: location)
/// try store.prepare(pipeline: "orders", version: 1, hash: hash, views: views)
/// try store.write(pipeline: "orders") { tx in
///     try tx.apply(changes)
///     try tx.setCheckpoints(checkpoints)
/// }
/// ```
///
/// - Important: One connection per store, used by one thread at a time (calls are serialized).
///   Open one store per worker thread; readers open their own.
public final class PostgresViewStore: ViewStore, @unchecked Sendable {
    /// How the store uses its connection.
    public struct Configuration: Sendable {
        /// Only read (status, verify): never creates the schema or tables. Default `false`.
        public var isReadOnly: Bool
        /// How long a statement waits for a lock (another worker's batch, a swap) before failing
        /// with `.busy` (PostgreSQL's `lock_timeout`). Default 60 s.
        public var lockTimeout: Duration
        /// How long a statement may run before the server cancels it (`statement_timeout`);
        /// `nil` for none. Default `nil`.
        public var statementTimeout: Duration?
        /// How long connecting may take. Default 10 s.
        public var connectTimeout: Duration
        /// How long a transaction or read whose connection was lost (a server restart) is tried
        /// again on new connections, a commit whose answer was lost is asked about, and opening
        /// the store waits for a free connection slot, before the error goes to the caller.
        /// Default 60 s.
        public var reconnectTimeout: Duration

        /// Creates a configuration.
        public init(
            isReadOnly: Bool = false, lockTimeout: Duration = .seconds(60), statementTimeout: Duration? = nil,
            connectTimeout: Duration = .seconds(10), reconnectTimeout: Duration = .seconds(60)
        ) {
            self.isReadOnly = isReadOnly
            self.lockTimeout = lockTimeout
            self.statementTimeout = statementTimeout
            self.connectTimeout = connectTimeout
            self.reconnectTimeout = reconnectTimeout
        }
    }

    /// Where the store is.
    public let location: PostgresLocation
    /// The configuration the store was opened with.
    public let configuration: Configuration

    let session: PostgresSession
    /// Says when the connection was lost and found again (the worker's log).
    let logger = Logger(label: "projector.postgres")
    /// Serializes every use of the one connection.
    let lock = NSRecursiveLock()
    /// Prepared generations by pipeline key (`name` or `name@shadow`).
    var generations: [String: PostgresGeneration] = [:]

    /// Connects and, unless read-only, creates the schema and the internal tables when missing.
    /// - Throws: ``ViewStoreError`` `.cannotOpen` when the server cannot be reached or refuses the
    ///   login, `.notADatabase` when a reader finds no store in the schema, `.invalidName` for a
    ///   bad schema name.
    public init(location: PostgresLocation, configuration: Configuration = Configuration()) throws {
        try SQLiteViewStore.validateIdentifier(location.schema, what: "schema name")
        self.location = location
        self.configuration = configuration
        var setup = [
            "SET search_path TO \(quoted(location.schema))",
            "SET lock_timeout = \(Self.milliseconds(configuration.lockTimeout))",
        ]
        if let timeout = configuration.statementTimeout {
            setup.append("SET statement_timeout = \(Self.milliseconds(timeout))")
        }
        session = PostgresSession(location: location, setup: setup, connectTimeout: configuration.connectTimeout)
        try waitForConnectionSlot()
        if configuration.isReadOnly {
            let rows = try session.query(
                "SELECT to_regclass('_projector_pipelines') IS NOT NULL", doing: "opening the view store \(location)")
            guard rows.first?.first?.bytes?.getInteger(at: 0, as: UInt8.self) == 1 else {
                throw ViewStoreError(
                    code: .notADatabase,
                    message: "schema \(location.schema) of \(location) holds no Projector view store; "
                        + "point the reader at the store a worker writes")
            }
        } else {
            // Under a lock: CREATE … IF NOT EXISTS of two processes at once can still collide.
            try session.script(
                "BEGIN; SELECT pg_advisory_xact_lock(\(Self.lockKey("_projector_schema"))); "
                    + "CREATE SCHEMA IF NOT EXISTS \(quoted(location.schema)); \(Self.internalSchema) COMMIT",
                doing: "creating the internal tables of the view store \(location)")
        }
    }

    /// Drops the store's schema with everything in it: a scratch store made for one run
    /// (`projector bench`, `projector demo`) leaves nothing behind. Nobody may use it afterwards.
    public func dropSchema() throws {
        try access {
            try session.script("DROP SCHEMA IF EXISTS \(quoted(location.schema)) CASCADE", doing: "dropping schema \(location.schema)")
        }
        generations = [:]
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let parts = duration.components
        return parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000
    }

    static let internalSchema = """
        CREATE TABLE IF NOT EXISTS "_projector_pipelines" (
            "name" text NOT NULL PRIMARY KEY, "version" bigint NOT NULL, "hash" text NOT NULL,
            "created_at" text NOT NULL, "rebuilt_at" text);
        CREATE TABLE IF NOT EXISTS "_projector_checkpoints" (
            "pipeline" text NOT NULL, "topic" text NOT NULL, "partition" integer NOT NULL,
            "next_offset" bigint NOT NULL, "owner" text, "epoch" bigint NOT NULL DEFAULT 0,
            PRIMARY KEY ("pipeline", "topic", "partition"));
        CREATE TABLE IF NOT EXISTS "_projector_dead_letters" (
            "id" bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "pipeline" text NOT NULL, "topic" text NOT NULL,
            "partition" integer NOT NULL, "offset" bigint NOT NULL, "key" bytea, "value" bytea,
            "error" text NOT NULL, "time" text NOT NULL, "park_key" text, "headers" bytea, "published" integer);
        CREATE INDEX IF NOT EXISTS "_projector_dead_letters_pipeline" ON "_projector_dead_letters" ("pipeline", "id");
        CREATE INDEX IF NOT EXISTS "_projector_dead_letters_unpublished"
            ON "_projector_dead_letters" ("pipeline", "id") WHERE "published" = 0;
        CREATE TABLE IF NOT EXISTS "_projector_counters" (
            "pipeline" text NOT NULL, "name" text NOT NULL, "value" bigint NOT NULL,
            PRIMARY KEY ("pipeline", "name"));
        CREATE TABLE IF NOT EXISTS "_projector_views" (
            "pipeline" text NOT NULL, "name" text NOT NULL, "table_name" text NOT NULL,
            PRIMARY KEY ("pipeline", "name"));
        """

    /// The advisory lock key of a pipeline key: 64-bit FNV-1a of its UTF-8, the same in every
    /// process (a collision only makes two pipelines take turns).
    static func lockKey(_ key: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }

    /// The pipeline key in the internal tables: the name for live, `name@shadow` for the shadow.
    func storageKey(_ pipeline: String, _ target: ViewTarget) -> String {
        target == .live ? pipeline : pipeline + "@shadow"
    }

    /// Runs `body` with the connection to itself.
    func access<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}

/// One prepared generation of a pipeline: its definitions, tables and statements.
struct PostgresGeneration {
    var version: Int
    var hash: String
    var views: [ViewDefinition]
    var tables: [String]
    /// The generation's identity when it was prepared: its hash and its tables' OIDs. A swap,
    /// even by another process with the same hash, gives the live views the shadow's tables,
    /// whose OIDs differ, so the fingerprint changes.
    var fingerprint: String
    var statements: [TableSQL]
}

/// The SQL of one table's reads and batch writes.
struct TableSQL {
    var name: String
    var columnCount: Int
    var keyColumns: [Int]
    var types: [PostgresColumnType]
    /// The quoted column names, comma-separated, and the quoted key column names in key order.
    var columnList: String
    var keyNames: [String]
    /// `SELECT … WHERE key = $1 …`
    var select: String
    /// `INSERT … SELECT * FROM unnest($1::…[], …) ON CONFLICT (key) DO UPDATE …`
    var upsert: String
    /// The upsert that writes only some columns of a stored row, by ``ViewChange/assignedColumns``.
    var upsertAssigning: (UInt64) -> String
    /// `DELETE … WHERE (key) IN (SELECT * FROM unnest(…))`
    var delete: String
    /// `SELECT n, columns … FROM unnest(key arrays) WITH ORDINALITY JOIN table ON key`: many keys'
    /// rows in one statement, each row with the 1-based position of the key that found it.
    var prefetch: String

    init(table: String, definition: ViewDefinition) {
        name = table
        columnCount = definition.columns.count
        keyColumns = definition.keyColumns
        let types = definition.columns.map { PostgresColumnType($0.type) }
        self.types = types
        let columns = definition.columns.map { quoted($0.name) }
        let keys = definition.keyColumns.map { columns[$0] }
        columnList = columns.joined(separator: ", ")
        keyNames = keys
        let keyMatch = keys.enumerated().map { "\($1) = $\($0 + 1)" }.joined(separator: " AND ")
        select = "SELECT \(columns.joined(separator: ", ")) FROM \(quoted(table)) WHERE \(keyMatch)"
        let arrays = types.enumerated().map { "$\($0 + 1)::\($1.arraySQL)" }.joined(separator: ", ")
        let upsertSQL = { (assigned: UInt64) in
            let updates = definition.columns.indices
                .filter { !definition.keyColumns.contains($0) && ($0 >= 64 ? assigned == .max : assigned & (1 << UInt64($0)) != 0) }
                .map { "\(columns[$0]) = excluded.\(columns[$0])" }
            let action = updates.isEmpty ? "NOTHING" : "UPDATE SET " + updates.joined(separator: ", ")
            return "INSERT INTO \(quoted(table)) (\(columns.joined(separator: ", "))) SELECT * FROM unnest(\(arrays)) "
                + "ON CONFLICT (\(keys.joined(separator: ", "))) DO \(action)"
        }
        upsert = upsertSQL(.max)
        upsertAssigning = upsertSQL
        let keyArrays = definition.keyColumns.enumerated().map { "$\($0 + 1)::\(types[$1].arraySQL)" }.joined(separator: ", ")
        delete = "DELETE FROM \(quoted(table)) WHERE (\(keys.joined(separator: ", "))) IN (SELECT * FROM unnest(\(keyArrays)))"
        let askedNames = keys.indices.map { "\"k\($0)\"" }
        prefetch = "SELECT \"_projector_asked\".\"n\", " + columns.map { "\"_projector_row\".\($0)" }.joined(separator: ", ")
            + " FROM unnest(\(keyArrays)) WITH ORDINALITY AS \"_projector_asked\"(\(askedNames.joined(separator: ", ")), \"n\")"
            + " JOIN \(quoted(table)) AS \"_projector_row\" ON "
            + zip(keys, askedNames).map { "\"_projector_row\".\($0) = \"_projector_asked\".\($1)" }.joined(separator: " AND ")
    }
}
