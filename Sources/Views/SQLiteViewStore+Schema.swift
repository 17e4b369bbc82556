internal import GRDB
public import ProjectorModel

extension SQLiteViewStore {
    /// Internal table names a view may not take.
    package static let reservedNames: Set<String> = [
        "_projector_pipelines", "_projector_checkpoints", "_projector_dead_letters",
        "_projector_counters", "_projector_views",
    ]
    package static let shadowPrefix = "_projector_shadow_"

    /// The pipeline key in the internal tables: the name for live, `name@shadow` for the shadow.
    func storageKey(_ pipeline: String, _ target: ViewTarget) -> String {
        target == .live ? pipeline : pipeline + "@shadow"
    }

    /// Creates the pipeline's missing tables and records its identity, in one transaction.
    public func prepare(pipeline: String, version: Int, hash: String, views: [ViewDefinition], time: String?) throws {
        try Self.validate(pipeline: pipeline, views: views)
        let time = time ?? wallClockTime()
        try access(doing: "preparing pipeline \(pipeline)") { db in
            try db.inTransaction(.immediate) {
                if let identity = try Row.fetchOne(
                    db, sql: #"SELECT "version", "hash" FROM "_projector_pipelines" WHERE "name" = ?"#,
                    arguments: [pipeline])
                {
                    let storedVersion: Int = identity["version"]
                    let storedHash: String = identity["hash"]
                    if storedHash != hash {
                        throw ViewStoreError(
                            code: .definitionChanged,
                            message: "the views of pipeline \(pipeline) were built by another definition "
                                + "(version \(storedVersion), hash \(storedHash)) than this one (version \(version), "
                                + "hash \(hash)); rebuild them with this definition, or run the definition that built them")
                    }
                } else {
                    try db.execute(
                        sql: """
                            INSERT INTO "_projector_pipelines" ("name", "version", "hash", "created_at", "rebuilt_at")
                            VALUES (?, ?, ?, ?, NULL)
                            """,
                        arguments: [pipeline, version, hash, time])
                }
                try createTables(pipeline: pipeline, key: pipeline, tables: views.map(\.name), views: views, db: db)
                return .commit
            }
            forgetStatements(pipeline)
            let tables = views.map(\.name)
            generations[pipeline] = Generation(
                version: version, hash: hash, views: views, tables: tables,
                fingerprint: try fingerprint(key: pipeline, tables: tables, db: db))
        }
    }

    /// Prepares or resumes the shadow generation `_projector_shadow_<view>` under key `<pipeline>@shadow`.
    public func prepareShadow(
        pipeline: String, version: Int, hash: String, views: [ViewDefinition], time: String?
    ) throws -> ShadowPreparation {
        try Self.validate(pipeline: pipeline, views: views)
        let time = time ?? wallClockTime()
        let key = storageKey(pipeline, .shadow)
        let tables = views.map { Self.shadowPrefix + $0.name }
        return try access(doing: "preparing the shadow of pipeline \(pipeline)") { db in
            var preparation = ShadowPreparation.started
            forgetStatements(key)
            try db.inTransaction(.immediate) {
                let identity = try Row.fetchOne(
                    db, sql: #"SELECT "hash" FROM "_projector_pipelines" WHERE "name" = ?"#, arguments: [key])
                let storedHash: String? = identity?["hash"]
                let storedTables = try String.fetchAll(
                    db, sql: #"SELECT "table_name" FROM "_projector_views" WHERE "pipeline" = ? ORDER BY "table_name""#,
                    arguments: [key])
                if storedHash == hash && storedTables == tables.sorted() {
                    preparation = .resumed
                } else {
                    if identity != nil {
                        try dropGeneration(key: key, db: db)
                    }
                    try db.execute(
                        sql: """
                            INSERT INTO "_projector_pipelines" ("name", "version", "hash", "created_at", "rebuilt_at")
                            VALUES (?, ?, ?, ?, NULL)
                            """,
                        arguments: [key, version, hash, time])
                }
                try createTables(pipeline: pipeline, key: key, tables: tables, views: views, db: db)
                return .commit
            }
            generations[key] = Generation(
                version: version, hash: hash, views: views, tables: tables,
                fingerprint: try fingerprint(key: key, tables: tables, db: db))
            return preparation
        }
    }

    /// Drops the live tables and renames the shadow ones in their place, with checkpoints, counters and identity, in one transaction.
    public func swap(pipeline: String, newVersion: Int, newHash: String, time: String?) throws {
        try swap(pipeline: pipeline, newVersion: newVersion, newHash: newHash, time: time, lettersReadFrom: [], isFinishing: false) { _, _ in }
    }

    public func swap(
        pipeline: String, newVersion: Int, newHash: String, time: String?, lettersReadFrom: [Checkpoint],
        finishing finish: (inout any ViewTransaction, [Checkpoint]) throws -> Void
    ) throws {
        try swap(pipeline: pipeline, newVersion: newVersion, newHash: newHash, time: time, lettersReadFrom: lettersReadFrom,
                 isFinishing: true, finish)
    }

    private func swap(
        pipeline: String, newVersion: Int, newHash: String, time: String?, lettersReadFrom: [Checkpoint], isFinishing: Bool,
        _ finish: (inout any ViewTransaction, [Checkpoint]) throws -> Void
    ) throws {
        let time = time ?? wallClockTime()
        let key = storageKey(pipeline, .shadow)
        try access(doing: "swapping in the rebuilt views of pipeline \(pipeline)") { db in
            // The cached statements name tables this transaction drops or renames.
            forgetStatements(pipeline)
            forgetStatements(key)
            // Users build SQL views on our tables. Modern RENAME re-checks every view and fails
            // while the dropped live table is missing; the legacy mode leaves their text alone, so
            // they read the renamed table afterwards (https://sqlite.org/pragma.html#pragma_legacy_alter_table).
            try db.execute(sql: "PRAGMA legacy_alter_table = ON")
            defer { try? db.execute(sql: "PRAGMA legacy_alter_table = OFF") }
            // One transaction: WAL readers keep reading the old tables until COMMIT and see the
            // new ones after it, never a mix (https://sqlite.org/isolation.html).
            try db.inTransaction(.immediate) {
                guard let shadow = try Row.fetchOne(
                    db, sql: #"SELECT "version", "hash" FROM "_projector_pipelines" WHERE "name" = ?"#,
                    arguments: [key])
                else {
                    throw ViewStoreError(
                        code: .noShadow,
                        message: "pipeline \(pipeline) has no rebuilt views to swap in; run a rebuild first")
                }
                let shadowVersion: Int = shadow["version"]
                let shadowHash: String = shadow["hash"]
                guard shadowVersion == newVersion && shadowHash == newHash else {
                    throw ViewStoreError(
                        code: .definitionChanged,
                        message: "the shadow views of pipeline \(pipeline) were built by version \(shadowVersion), "
                            + "hash \(shadowHash), not version \(newVersion), hash \(newHash); restart the rebuild")
                }
                if isFinishing {
                    guard let generation = generations[key] else {
                        throw ViewStoreError(
                            code: .notPrepared,
                            message: "the shadow of pipeline \(pipeline) was not prepared on this store; call prepareShadow first")
                    }
                    // Under this transaction's write lock no other writer can move the live
                    // checkpoints between the finishing writes and the swap.
                    var transaction: any ViewTransaction = SQLiteViewTransaction(
                        pipeline: pipeline, target: .shadow, storageKey: key, connection: db.sqliteConnection, db: db,
                        tables: try statements(for: key, target: .shadow, generation, db), common: try commonStatements(db))
                    try finish(&transaction, try Self.checkpoints(key: pipeline, db: db))
                    // Finalize them now: the statements name tables the swap renames.
                    tableStatements[key] = nil
                }
                try Self.keepPendingEmits(pipeline: pipeline, shadowKey: key, db: db)
                for table in try liveTables(key: pipeline, db: db) {
                    try db.execute(sql: "DROP TABLE IF EXISTS \(quoted(table))")
                }
                let shadowViews = try Row.fetchAll(
                    db, sql: #"SELECT "name", "table_name" FROM "_projector_views" WHERE "pipeline" = ?"#,
                    arguments: [key])
                for view in shadowViews {
                    let name: String = view["name"]
                    let table: String = view["table_name"]
                    try db.execute(sql: "ALTER TABLE \(quoted(table)) RENAME TO \(quoted(name))")
                }
                try db.execute(sql: #"DELETE FROM "_projector_views" WHERE "pipeline" = ?"#, arguments: [pipeline])
                try db.execute(
                    sql: #"UPDATE "_projector_views" SET "pipeline" = ?, "table_name" = "name" WHERE "pipeline" = ?"#,
                    arguments: [pipeline, key])
                for table in ["_projector_checkpoints", "_projector_counters"] {
                    try db.execute(sql: "DELETE FROM \(quoted(table)) WHERE \"pipeline\" = ?", arguments: [pipeline])
                    try db.execute(
                        sql: "UPDATE \(quoted(table)) SET \"pipeline\" = ? WHERE \"pipeline\" = ?", arguments: [pipeline, key])
                }
                // Dead letters are the only copy of a message once Kafka's retention drops it:
                // keep the live ones the rebuild did not read, drop those it read and did not
                // dead-letter again, and add those it found at new positions.
                for start in lettersReadFrom {
                    try db.execute(
                        sql: """
                            DELETE FROM "_projector_dead_letters" AS live WHERE "pipeline" = ?1 AND "topic" = ?3
                            AND "partition" = ?4 AND "offset" >= ?5 AND NOT EXISTS (
                                SELECT 1 FROM "_projector_dead_letters" AS shadow WHERE shadow."pipeline" = ?2
                                AND shadow."topic" = live."topic" AND shadow."partition" = live."partition"
                                AND shadow."offset" = live."offset")
                            """,
                        arguments: [pipeline, key, start.topic, Int64(start.partition), start.nextOffset])
                }
                try db.execute(
                    sql: """
                        DELETE FROM "_projector_dead_letters" AS shadow WHERE "pipeline" = ?1 AND EXISTS (
                            SELECT 1 FROM "_projector_dead_letters" AS live WHERE live."pipeline" = ?2
                            AND live."topic" = shadow."topic" AND live."partition" = shadow."partition"
                            AND live."offset" = shadow."offset")
                        """,
                    arguments: [key, pipeline])
                try db.execute(
                    sql: #"UPDATE "_projector_dead_letters" SET "pipeline" = ? WHERE "pipeline" = ?"#,
                    arguments: [pipeline, key])
                try db.execute(
                    sql: """
                        INSERT INTO "_projector_pipelines" ("name", "version", "hash", "created_at", "rebuilt_at")
                        VALUES (?1, ?2, ?3, ?4, ?4)
                        ON CONFLICT ("name") DO UPDATE SET "version" = excluded."version", "hash" = excluded."hash",
                            "rebuilt_at" = excluded."rebuilt_at"
                        """,
                    arguments: [pipeline, newVersion, newHash, time])
                try db.execute(sql: #"DELETE FROM "_projector_pipelines" WHERE "name" = ?"#, arguments: [key])
                return .commit
            }
            if let shadow = generations.removeValue(forKey: key) {
                let tables = shadow.views.map(\.name)
                generations[pipeline] = Generation(
                    version: newVersion, hash: newHash, views: shadow.views, tables: tables,
                    fingerprint: try fingerprint(key: pipeline, tables: tables, db: db))
            } else {
                generations[pipeline] = nil
            }
        }
    }

    /// Drops the shadow generation and its checkpoints, counters and dead letters, in one transaction.
    public func dropShadow(pipeline: String) throws {
        let key = storageKey(pipeline, .shadow)
        try access(doing: "dropping the shadow of pipeline \(pipeline)") { db in
            forgetStatements(key)
            try db.inTransaction(.immediate) {
                try dropGeneration(key: key, db: db)
                return .commit
            }
            generations[key] = nil
        }
    }

    /// Finalizes a generation's cached statements: they name tables a schema change replaces.
    func forgetStatements(_ key: String) {
        tableStatements[key] = nil
        fingerprintStatements[key] = nil
    }

    /// A query for the identity of a generation as stored: its hash and the root pages of its
    /// tables. A swap, even by another process and with the same hash, gives the live views the
    /// shadow's tables, whose root pages differ from those of the tables it drops (both existed
    /// at once), so the fingerprint changes (https://sqlite.org/schematab.html).
    func fingerprintSQL(key: String, tables: [String]) -> String {
        let literal = { (text: String) in "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''") + "'" }
        return """
            SELECT coalesce((SELECT "hash" FROM "_projector_pipelines" WHERE "name" = \(literal(key))), '') || ':' ||
            coalesce((SELECT group_concat("rootpage", ',') FROM (SELECT "rootpage" FROM "sqlite_master"
            WHERE "type" = 'table' AND "name" IN (\(tables.map(literal).joined(separator: ", "))) ORDER BY "name")), '')
            """
    }

    func fingerprint(key: String, tables: [String], db: Database) throws -> String {
        try String.fetchOne(db, sql: fingerprintSQL(key: key, tables: tables)) ?? ""
    }

    /// Drops a generation's tables and every internal row under its key.
    private func dropGeneration(key: String, db: Database) throws {
        for table in try liveTables(key: key, db: db) {
            try db.execute(sql: "DROP TABLE IF EXISTS \(quoted(table))")
        }
        for table in ["_projector_views", "_projector_checkpoints", "_projector_counters", "_projector_dead_letters"] {
            try db.execute(sql: "DELETE FROM \(quoted(table)) WHERE \"pipeline\" = ?", arguments: [key])
        }
        try db.execute(sql: #"DELETE FROM "_projector_pipelines" WHERE "name" = ?"#, arguments: [key])
    }

    private func liveTables(key: String, db: Database) throws -> [String] {
        try String.fetchAll(
            db, sql: #"SELECT "table_name" FROM "_projector_views" WHERE "pipeline" = ?"#, arguments: [key])
    }

    /// Creates the missing tables of a generation and records which pipeline owns each view.
    private func createTables(pipeline: String, key: String, tables: [String], views: [ViewDefinition], db: Database) throws {
        for (table, view) in zip(tables, views) {
            let owners = try String.fetchAll(
                db, sql: #"SELECT "pipeline" FROM "_projector_views" WHERE "name" = ?"#, arguments: [view.name])
            if let other = owners.first(where: { $0 != pipeline && $0 != pipeline + "@shadow" }) {
                throw ViewStoreError(
                    code: .viewOwned,
                    message: "view \(view.name) of pipeline \(pipeline) is already a view of pipeline "
                        + "\(other.replacing("@shadow", with: "")); rename one of the views")
            }
            let isOwned = owners.contains(key)
            // A shadow table is swapped in under the view's name, which must be ours or free.
            for name in Set([table, view.name]) where !owners.contains(name == table ? key : pipeline) {
                if try db.tableExists(name) {
                    throw ViewStoreError(
                        code: .viewOwned,
                        message: "the store already has a table \(name) that is not a view of pipeline \(pipeline); "
                            + "rename the view or drop that table")
                }
            }
            try db.execute(sql: createTableSQL(table: table, view: view))
            if !isOwned {
                try db.execute(
                    sql: #"INSERT INTO "_projector_views" ("pipeline", "name", "table_name") VALUES (?, ?, ?)"#,
                    arguments: [key, view.name, table])
            }
        }
    }

    /// `CREATE TABLE IF NOT EXISTS` with the declared columns and primary key.
    ///
    /// Key columns are `NOT NULL` (SQLite would otherwise accept NULL keys that never conflict).
    /// A single INTEGER key is the rowid itself. Other keys get an ordinary rowid table with the
    /// key as its unique index: measured faster than `WITHOUT ROWID` for whole-row upserts, as an
    /// update rewrites only the table row and leaves the key index alone
    /// (https://sqlite.org/withoutrowid.html#when_to_use_without_rowid).
    func createTableSQL(table: String, view: ViewDefinition) -> String {
        let columns = view.columns.enumerated().map { index, column in
            // The second word keeps the declared type for readers (`ViewDescription`); the
            // first alone decides SQLite's affinity (https://sqlite.org/datatype3.html#affname).
            let type = switch column.type {
            case .text: "TEXT"
            case .json: "TEXT JSON"
            case .integer: "INTEGER"
            case .boolean: "INTEGER BOOLEAN"
            case .real: "REAL"
            }
            return quoted(column.name) + " " + type + (view.keyColumns.contains(index) ? " NOT NULL" : "")
        }
        let key = view.keyColumns.map { quoted(view.columns[$0].name) }.joined(separator: ", ")
        let isRowidKey = view.keyColumns.count == 1 && view.columns[view.keyColumns[0]].type == .integer
        let withoutRowid = configuration.usesWithoutRowid && !isRowidKey ? " WITHOUT ROWID" : ""
        return "CREATE TABLE IF NOT EXISTS \(quoted(table)) (\(columns.joined(separator: ", ")), PRIMARY KEY (\(key)))"
            + withoutRowid
    }

    package static func validate(pipeline: String, views: [ViewDefinition]) throws {
        try validateIdentifier(pipeline, what: "pipeline name")
        guard !views.isEmpty else {
            throw ViewStoreError(code: .invalidDefinition, message: "pipeline \(pipeline) declares no views; declare at least one")
        }
        var names = Set<String>()
        for view in views {
            try validateIdentifier(view.name, what: "view name")
            if reservedNames.contains(view.name) || view.name.hasPrefix(shadowPrefix) {
                throw ViewStoreError(
                    code: .invalidName,
                    message: "view name \(view.name) of pipeline \(pipeline) is reserved for the store's own tables; rename the view")
            }
            guard names.insert(view.name).inserted else {
                throw ViewStoreError(code: .invalidDefinition, message: "pipeline \(pipeline) declares view \(view.name) twice")
            }
            var columns = Set<String>()
            for column in view.columns {
                try validateIdentifier(column.name, what: "column name in view \(view.name)")
                guard columns.insert(column.name).inserted else {
                    throw ViewStoreError(
                        code: .invalidDefinition, message: "view \(view.name) declares column \(column.name) twice")
                }
            }
            guard !view.keyColumns.isEmpty, Set(view.keyColumns).count == view.keyColumns.count,
                view.keyColumns.allSatisfy({ view.columns.indices.contains($0) })
            else {
                throw ViewStoreError(
                    code: .invalidDefinition,
                    message: "view \(view.name) needs a key of one or more distinct declared columns; got \(view.keyColumns)")
            }
        }
    }

    package static func validateIdentifier(_ name: String, what: String) throws {
        let bytes = Array(name.utf8)
        let valid = !bytes.isEmpty && !(bytes[0] >= UInt8(ascii: "0") && bytes[0] <= UInt8(ascii: "9"))
            && bytes.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") }
        guard valid else {
            throw ViewStoreError(
                code: .invalidName, message: "\(what) '\(name)' is not a valid identifier; use [a-z_][a-z0-9_]*")
        }
    }
}
