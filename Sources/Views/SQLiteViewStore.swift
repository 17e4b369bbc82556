internal import Foundation
internal import GRDB
internal import GRDBSQLite
internal import ProjectorModel

/// The embedded view store: one SQLite file (WAL) or an in-memory database for tests.
///
/// Views are plain tables named after the view, with the declared columns and primary key,
/// readable with any SQLite tool. Beside them live the internal tables:
///
/// | table | columns |
/// | --- | --- |
/// | `_projector_pipelines` | `name` PK, `version`, `hash`, `created_at`, `rebuilt_at` |
/// | `_projector_checkpoints` | `pipeline`, `topic`, `partition`, `next_offset`, `owner`, `epoch`; PK (`pipeline`, `topic`, `partition`) |
/// | `_projector_dead_letters` | `id` INTEGER PK, `pipeline`, `topic`, `partition`, `offset`, `key` BLOB, `value` BLOB, `error`, `time`, `park_key`, `headers` BLOB, `published` (NULL: no topic, 0: pending, 1: published) |
/// | `_projector_counters` | `pipeline`, `name`, `value`; PK (`pipeline`, `name`) |
/// | `_projector_views` | `pipeline`, `name`, `table_name`; PK (`pipeline`, `name`): which pipeline owns which view |
///
/// A rebuild's shadow generation uses tables named `_projector_shadow_<view>` and the pipeline
/// key `<pipeline>@shadow` in the internal tables (pipeline names cannot contain `@`).
///
/// ```swift
/// let store = try SQLiteViewStore(path: "/var/lib/projector/views.sqlite")
/// try store.prepare(pipeline: "orders", version: 1, hash: hash, views: views)
/// try store.write(pipeline: "orders") { tx in
///     try tx.apply(changes)
///     try tx.setCheckpoints(checkpoints)
/// }
/// ```
///
/// - Important: One writer: the worker thread that owns the store calls `prepare`, `write`,
///   `swap`. Readers on other threads or processes (status, verify) open their own store with
///   ``Configuration/isReadOnly``; WAL lets them read while the writer writes.
// @unchecked Sendable: every mutable property (the prepared generations and the statement cache)
// is read and written only inside `queue`'s serialized accesses, whichever thread calls.
public final class SQLiteViewStore: ViewStore, @unchecked Sendable {
    /// How the SQLite connection is set up. The defaults are what the worker measured best.
    public struct Configuration: Sendable {
        /// The `synchronous` pragma (https://sqlite.org/pragma.html#pragma_synchronous).
        public enum Synchronous: String, Sendable {
            /// No fsync: an OS crash may corrupt the file. Benchmarks only.
            case off = "OFF"
            /// With WAL, fsync at checkpoints only; a power loss may drop the last commits.
            case normal = "NORMAL"
            /// fsync at every commit.
            case full = "FULL"
        }

        /// Open an existing store for reading only (status, verify). Default `false`.
        public var isReadOnly: Bool
        /// SQLite `synchronous` pragma. Default `.normal`.
        ///
        /// `NORMAL` with WAL keeps the exactly-once effect: a power loss can only lose the last
        /// committed transactions as a whole, and checkpoints commit in the same transaction as
        /// their rows, so a lost tail loses its checkpoints too and the worker re-reads exactly
        /// those messages. The database is never corrupted (https://sqlite.org/wal.html).
        public var synchronous: Synchronous
        /// SQLite page cache per connection in KiB (`PRAGMA cache_size = -N`). Default 65536 (64 MiB):
        /// measured 11 µs CPU per scattered-key insert against 13–14 µs with SQLite's 2 MB.
        public var cacheSizeKiB: Int
        /// The memory per pipeline, in KiB, for the keys known to exist in tables that were empty
        /// when the store first wrote them (a Bloom filter that answers "absent" without a query;
        /// a rebuild's shadow tables and a new pipeline's): a quarter of ``cacheSizeKiB``, on top
        /// of it, as both answer reads. Fixed, so it does not grow with the keys written; past a
        /// few million keys a growing share of reads of new keys query SQLite.
        public var knownKeysKiB: Int { max(cacheSizeKiB / 4, 1) }
        /// The memory per pipeline, in KiB, for the rows a worker last read or wrote in its live views
        /// (answering a later batch's reads of them without a query): a quarter of
        /// ``cacheSizeKiB``, on top of it. Shadow tables (a rebuild's) have none: the window holds
        /// the rows it touches.
        public var rowCacheKiB: Int { max(cacheSizeKiB / 4, 1) }
        /// WAL pages after which a commit checkpoints (`PRAGMA wal_autocheckpoint`). Default 10000
        /// (a WAL of up to ~40 MiB): measured 11 µs CPU per insert against 14 µs with SQLite's 1000.
        public var walAutocheckpointPages: Int
        /// How long to wait for another connection's lock before failing with `.busy`. Default 5 s.
        public var busyTimeout: Duration
        /// Use `journal_mode=WAL` for file stores. Default `true`; `false` keeps SQLite's default.
        public var usesWAL: Bool

        /// How a whole-row upsert is written; measured, not a user choice.
        var upsertStyle: UpsertStyle = .onConflict
        /// Whether tables with a non-integer key are `WITHOUT ROWID`; measured, not a user choice:
        /// rowid tables upserted 1.3x (insert) to 2.4x (update) faster here, see the report in
        /// `ThroughputTests`.
        var usesWithoutRowid = false

        /// Creates a configuration.
        public init(
            isReadOnly: Bool = false,
            synchronous: Synchronous = .normal,
            cacheSizeKiB: Int = 65536,
            walAutocheckpointPages: Int = 10000,
            busyTimeout: Duration = .seconds(5),
            usesWAL: Bool = true
        ) {
            self.isReadOnly = isReadOnly
            self.synchronous = synchronous
            self.cacheSizeKiB = cacheSizeKiB
            self.walAutocheckpointPages = walAutocheckpointPages
            self.busyTimeout = busyTimeout
            self.usesWAL = usesWAL
        }

        /// SQLite's own defaults (rollback journal, `synchronous=FULL`, 2 MiB cache), for comparison.
        public static var sqliteDefaults: Configuration {
            Configuration(synchronous: .full, cacheSizeKiB: 2000, walAutocheckpointPages: 1000, usesWAL: false)
        }
    }

    enum UpsertStyle: Sendable {
        /// `INSERT ... ON CONFLICT (key) DO UPDATE SET ...`
        case onConflict
        /// `INSERT OR REPLACE ...`
        case replace
    }

    /// The file path, or `nil` for an in-memory store.
    public let path: String?
    /// The configuration the store was opened with.
    public let configuration: Configuration

    let queue: DatabaseQueue
    /// Prepared generations by pipeline key (`name` or `name@shadow`).
    var generations: [String: Generation] = [:]
    /// Cached per-table statements by pipeline key, built on first write.
    var tableStatements: [String: [TableStatements]] = [:]
    /// Cached generation-fingerprint queries by pipeline key, built on first write.
    var fingerprintStatements: [String: Statement] = [:]
    /// Statements shared by every pipeline, built on first write.
    var common: CommonStatements?
    /// Shadows (pipeline keys) a second connection of this rebuild writes too
    /// (``openShadowWriter(pipeline:version:hash:views:)``): their known keys outlive that
    /// connection's commits, whose keys are adopted instead.
    var sharedShadows: Set<String> = []

    /// Opens (or creates) the store at `path`.
    /// - Throws: ``ViewStoreError`` `.isDirectory`, `.missingDirectory`, `.readOnly`,
    ///   `.notADatabase`, `.cannotOpen`, with what to do.
    public convenience init(path: String, configuration: Configuration = Configuration()) throws {
        try Self.checkPath(path, configuration: configuration)
        let queue: DatabaseQueue
        // Switching a new file to WAL needs an exclusive lock, and SQLite answers SQLITE_BUSY at
        // once (no busy handler) when another process opens the same new file at that moment: try
        // again, with growing pauses, until the busy timeout.
        let deadline = ContinuousClock.now + configuration.busyTimeout
        var pause = Duration.milliseconds(5)
        while true {
            do {
                queue = try DatabaseQueue(path: path, configuration: Self.grdbConfiguration(configuration, isMemory: false))
                break
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && ContinuousClock.now + pause < deadline {
                Thread.sleep(forTimeInterval: Double(pause.components.attoseconds) / 1e18 + Double(pause.components.seconds))
                pause = min(pause * 2, .milliseconds(200))
            } catch {
                throw Self.openError(error, path: path)
            }
        }
        try self.init(queue: queue, path: path, configuration: configuration)
    }

    /// Opens an empty in-memory store, gone when the store is released (tests).
    public static func inMemory(configuration: Configuration = Configuration()) throws -> SQLiteViewStore {
        do {
            let queue = try DatabaseQueue(configuration: grdbConfiguration(configuration, isMemory: true))
            return try SQLiteViewStore(queue: queue, path: nil, configuration: configuration)
        } catch {
            throw storeError(error, doing: "opening an in-memory view store")
        }
    }

    private init(queue: DatabaseQueue, path: String?, configuration: Configuration) throws {
        self.queue = queue
        self.path = path
        self.configuration = configuration
        do {
            try queue.inDatabase { db in
                if configuration.isReadOnly {
                    guard try db.tableExists("_projector_pipelines") else {
                        throw ViewStoreError(
                            code: .notADatabase,
                            message: "\(path ?? ":memory:") is an SQLite database but not a Projector view store; "
                                + "point the reader at the store a worker writes")
                    }
                } else {
                    try db.execute(sql: Self.internalSchema)
                    try Self.migrate(db)
                }
            }
        } catch {
            throw Self.openError(error, path: path ?? ":memory:")
        }
    }

    deinit {
        // Finalize our statements while the connection is still open (GRDB closes it when the
        // queue goes away), on the queue that owns them.
        queue.inDatabase { _ in
            tableStatements.removeAll()
            fingerprintStatements.removeAll()
            common = nil
        }
    }

    static let internalSchema = """
        CREATE TABLE IF NOT EXISTS "_projector_pipelines" (
            "name" TEXT NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL, "hash" TEXT NOT NULL,
            "created_at" TEXT NOT NULL, "rebuilt_at" TEXT);
        CREATE TABLE IF NOT EXISTS "_projector_checkpoints" (
            "pipeline" TEXT NOT NULL, "topic" TEXT NOT NULL, "partition" INTEGER NOT NULL,
            "next_offset" INTEGER NOT NULL, "owner" TEXT, "epoch" INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY ("pipeline", "topic", "partition"));
        CREATE TABLE IF NOT EXISTS "_projector_dead_letters" (
            "id" INTEGER PRIMARY KEY, "pipeline" TEXT NOT NULL, "topic" TEXT NOT NULL,
            "partition" INTEGER NOT NULL, "offset" INTEGER NOT NULL, "key" BLOB, "value" BLOB,
            "error" TEXT NOT NULL, "time" TEXT NOT NULL, "park_key" TEXT, "headers" BLOB, "published" INTEGER);
        CREATE INDEX IF NOT EXISTS "_projector_dead_letters_pipeline" ON "_projector_dead_letters" ("pipeline", "id");
        CREATE TABLE IF NOT EXISTS "_projector_counters" (
            "pipeline" TEXT NOT NULL, "name" TEXT NOT NULL, "value" INTEGER NOT NULL,
            PRIMARY KEY ("pipeline", "name"));
        CREATE TABLE IF NOT EXISTS "_projector_views" (
            "pipeline" TEXT NOT NULL, "name" TEXT NOT NULL, "table_name" TEXT NOT NULL,
            PRIMARY KEY ("pipeline", "name"));
        """

    static func grdbConfiguration(_ configuration: Configuration, isMemory: Bool) -> GRDB.Configuration {
        var grdb = GRDB.Configuration()
        grdb.readonly = configuration.isReadOnly
        grdb.label = "projector.views"
        let timeout = configuration.busyTimeout.components
        grdb.busyMode = .timeout(Double(timeout.seconds) + Double(timeout.attoseconds) / 1e18)
        let usesWAL = configuration.usesWAL && !isMemory && !configuration.isReadOnly
        let synchronous = configuration.synchronous.rawValue
        let cacheSize = configuration.cacheSizeKiB
        let autocheckpoint = configuration.walAutocheckpointPages
        let isReadOnly = configuration.isReadOnly
        grdb.prepareDatabase { db in
            if usesWAL {
                // Persistent in the file; readers of other processes then use WAL too.
                try db.execute(sql: "PRAGMA journal_mode = WAL")
            }
            try db.execute(sql: "PRAGMA cache_size = -\(cacheSize)")
            if !isReadOnly {
                try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(autocheckpoint)")
            }
        }
        return grdb
    }

    /// Turns the common path mistakes into clear errors before SQLite reports them as "cannot open".
    static func checkPath(_ path: String, configuration: Configuration) throws {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        if files.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue {
                throw ViewStoreError(
                    code: .isDirectory,
                    message: "the view store path \(path) is a directory; give a file path such as \(path)/views.sqlite")
            }
            if !configuration.isReadOnly {
                // Mode bits, not access(2): a root worker would otherwise write a file its
                // operator marked read-only.
                let mode = (try? files.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0o644
                if mode & 0o222 == 0 || !files.isWritableFile(atPath: path) {
                    throw ViewStoreError(
                        code: .readOnly,
                        message: "the view store \(path) is read-only; make it writable (chmod u+w) "
                            + "or open it with isReadOnly to only read it")
                }
            }
        } else {
            if configuration.isReadOnly {
                throw ViewStoreError(
                    code: .cannotOpen,
                    message: "there is no view store at \(path); check the path, or run a worker to create it",
                    sqliteCode: "SQLITE_CANTOPEN")
            }
            let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
            var parentIsDirectory: ObjCBool = false
            if !files.fileExists(atPath: parent, isDirectory: &parentIsDirectory) || !parentIsDirectory.boolValue {
                throw ViewStoreError(
                    code: .missingDirectory,
                    message: "the directory \(parent) for the view store \(path) does not exist; create it first")
            }
        }
    }

    static func openError(_ error: any Error, path: String) -> any Error {
        if let error = error as? ViewStoreError { return error }
        return storeError(error, doing: "opening the view store \(path)")
    }

    /// Runs `body` on the store's connection, mapping GRDB errors to `ViewStoreError`.
    func access<T>(doing action: @autoclosure () -> String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.inDatabase(body)
        } catch let error as DatabaseError {
            throw storeError(error, doing: action())
        }
    }

    /// Runs `body` in one read transaction, so it sees one snapshot of the store.
    func read<T>(doing action: @autoclosure () -> String, _ body: (Database) throws -> T) throws -> T {
        try access(doing: action()) { db in
            var result: T?
            try db.inTransaction(.deferred) {
                result = try body(db)
                return .commit
            }
            guard let result else { preconditionFailure("a committed read transaction produced no result") }
            return result
        }
    }
}

/// One prepared generation of a pipeline: its definitions and the tables they live in.
struct Generation {
    var version: Int
    var hash: String
    var views: [ViewDefinition]
    var tables: [String]
    /// The generation's identity when it was prepared: see `SQLiteViewStore.fingerprintSQL`.
    var fingerprint: String
}
