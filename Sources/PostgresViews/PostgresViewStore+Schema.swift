internal import PostgresNIO
public import ProjectorModel
public import Views

extension PostgresViewStore {
    /// Creates the pipeline's missing tables and records its identity, in one transaction.
    public func prepare(pipeline: String, version: Int, hash: String, views: [ViewDefinition], time: String?) throws {
        try SQLiteViewStore.validate(pipeline: pipeline, views: views)
        let time = time ?? wallClockTime()
        let tables = views.map(\.name)
        try transaction(locking: [pipeline], doing: "preparing pipeline \(pipeline)") {
            let identity = try session.query(
                #"SELECT "version", "hash" FROM "_projector_pipelines" WHERE "name" = $1"#, binds(pipeline),
                doing: "reading the identity of pipeline \(pipeline)")
            if let row = identity.first {
                let cells = Array(row)
                let storedHash = cells[1].text ?? ""
                if storedHash != hash {
                    throw ViewStoreError(
                        code: .definitionChanged,
                        message: "the views of pipeline \(pipeline) were built by another definition "
                            + "(version \(cells[0].integer ?? 0), hash \(storedHash)) than this one (version \(version), "
                            + "hash \(hash)); rebuild them with this definition, or run the definition that built them")
                }
            } else {
                try session.execute(
                    """
                    INSERT INTO "_projector_pipelines" ("name", "version", "hash", "created_at", "rebuilt_at")
                    VALUES ($1, $2, $3, $4, NULL)
                    """,
                    binds(pipeline, Int64(version), hash, time), doing: "recording pipeline \(pipeline)")
            }
            try createTables(pipeline: pipeline, key: pipeline, tables: tables, views: views)
            generations[pipeline] = PostgresGeneration(
                version: version, hash: hash, views: views, tables: tables,
                fingerprint: try fingerprint(key: pipeline, tables: tables),
                statements: zip(tables, views).map { TableSQL(table: $0, definition: $1) })
        }
    }

    /// Prepares or resumes the shadow generation `_projector_shadow_<view>` under key `<pipeline>@shadow`.
    public func prepareShadow(
        pipeline: String, version: Int, hash: String, views: [ViewDefinition], time: String?
    ) throws -> ShadowPreparation {
        try SQLiteViewStore.validate(pipeline: pipeline, views: views)
        let time = time ?? wallClockTime()
        let key = storageKey(pipeline, .shadow)
        let tables = views.map { SQLiteViewStore.shadowPrefix + $0.name }
        return try transaction(locking: [key], doing: "preparing the shadow of pipeline \(pipeline)") {
            var preparation = ShadowPreparation.started
            let storedHash = try session.query(
                #"SELECT "hash" FROM "_projector_pipelines" WHERE "name" = $1"#, binds(key), doing: "reading the shadow identity"
            ).first.flatMap { Array($0)[0].text }
            let storedTables = try session.query(
                #"SELECT "table_name" FROM "_projector_views" WHERE "pipeline" = $1 ORDER BY "table_name" COLLATE "C""#,
                binds(key), doing: "reading the shadow tables"
            ).compactMap { Array($0)[0].text }
            if storedHash == hash && storedTables == tables.sorted() {
                preparation = .resumed
            } else {
                if storedHash != nil {
                    try dropGeneration(key: key)
                }
                try session.execute(
                    """
                    INSERT INTO "_projector_pipelines" ("name", "version", "hash", "created_at", "rebuilt_at")
                    VALUES ($1, $2, $3, $4, NULL)
                    """,
                    binds(key, Int64(version), hash, time), doing: "recording the shadow of pipeline \(pipeline)")
            }
            try createTables(pipeline: pipeline, key: key, tables: tables, views: views)
            generations[key] = PostgresGeneration(
                version: version, hash: hash, views: views, tables: tables,
                fingerprint: try fingerprint(key: key, tables: tables),
                statements: zip(tables, views).map { TableSQL(table: $0, definition: $1) })
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
        let doing = "swapping in the rebuilt views of pipeline \(pipeline)"
        // Both locks, live first (as every writer of either takes only its own): no live batch
        // and no rebuild batch runs between the finishing writes and the renames. Readers keep
        // reading the old tables until COMMIT and see the new ones after it, never a mix.
        try transaction(locking: [pipeline, key], doing: doing) {
            guard let shadow = try session.query(
                #"SELECT "version", "hash" FROM "_projector_pipelines" WHERE "name" = $1"#, binds(key), doing: doing
            ).first.map(Array.init)
            else {
                throw ViewStoreError(code: .noShadow, message: "pipeline \(pipeline) has no rebuilt views to swap in; run a rebuild first")
            }
            let shadowVersion = Int(shadow[0].integer ?? 0)
            let shadowHash = shadow[1].text ?? ""
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
                var transaction: any ViewTransaction = PostgresViewTransaction(
                    pipeline: pipeline, target: .shadow, storageKey: key, session: session, tables: generation.statements)
                try finish(&transaction, try checkpoints(key: pipeline))
            }
            try keepPendingEmits(pipeline: pipeline, shadowKey: key, doing: doing)
            let liveTables = try liveTables(key: pipeline)
            // Users build SQL views on our tables. PostgreSQL binds a view to a table, not to a
            // name, and refuses to drop a table under a view: take the views down with their
            // definitions and create them again over the swapped-in tables, in this transaction,
            // so they read the new tables as SQLite's views do after a swap.
            let dependents = try session.query(Self.dependentViewsSQL, binds(liveTables), doing: doing).map(Array.init)
            for view in dependents {
                try session.execute(
                    "DROP \(view[2].text == "m" ? "MATERIALIZED VIEW" : "VIEW") \(view[0].text ?? "")", doing: doing)
            }
            for table in liveTables {
                do {
                    try session.execute("DROP TABLE IF EXISTS \(quoted(table))", doing: doing)
                } catch let error as ViewStoreError where error.message.contains("2BP01") {
                    throw ViewStoreError(
                        code: .viewOwned,
                        message: "view \(table) of pipeline \(pipeline) has other objects depending on it (PostgreSQL "
                            + "cannot drop it under them); drop them, swap again, and create them again (\(error.message))")
                }
            }
            let shadowViews = try session.query(
                #"SELECT "name", "table_name" FROM "_projector_views" WHERE "pipeline" = $1"#, binds(key), doing: doing
            ).map(Array.init)
            for view in shadowViews {
                try session.execute(
                    "ALTER TABLE \(quoted(view[1].text ?? "")) RENAME TO \(quoted(view[0].text ?? ""))", doing: doing)
            }
            for view in dependents {
                try session.execute(
                    "CREATE \(view[2].text == "m" ? "MATERIALIZED VIEW" : "VIEW") \(view[0].text ?? "") AS \(view[1].text ?? "")",
                    doing: doing)
            }
            try session.execute(#"DELETE FROM "_projector_views" WHERE "pipeline" = $1"#, binds(pipeline), doing: doing)
            try session.execute(
                #"UPDATE "_projector_views" SET "pipeline" = $1, "table_name" = "name" WHERE "pipeline" = $2"#,
                binds(pipeline, key), doing: doing)
            for table in ["_projector_checkpoints", "_projector_counters"] {
                try session.execute("DELETE FROM \(quoted(table)) WHERE \"pipeline\" = $1", binds(pipeline), doing: doing)
                try session.execute(
                    "UPDATE \(quoted(table)) SET \"pipeline\" = $1 WHERE \"pipeline\" = $2", binds(pipeline, key), doing: doing)
            }
            // Dead letters are the only copy of a message once Kafka's retention drops it: keep
            // the live ones the rebuild did not read, drop those it read and did not dead-letter
            // again, and add those it found at new positions (as SQLiteViewStore does).
            if !lettersReadFrom.isEmpty {
                try session.execute(
                    """
                    DELETE FROM "_projector_dead_letters" AS live USING unnest($3::text[], $4::integer[], $5::bigint[])
                        AS start("topic", "partition", "offset")
                    WHERE live."pipeline" = $1 AND live."topic" = start."topic" AND live."partition" = start."partition"
                    AND live."offset" >= start."offset" AND NOT EXISTS (
                        SELECT 1 FROM "_projector_dead_letters" AS shadow WHERE shadow."pipeline" = $2
                        AND shadow."topic" = live."topic" AND shadow."partition" = live."partition"
                        AND shadow."offset" = live."offset")
                    """,
                    binds(pipeline, key, lettersReadFrom.map(\.topic), lettersReadFrom.map(\.partition), lettersReadFrom.map(\.nextOffset)),
                    doing: doing)
            }
            try session.execute(
                """
                DELETE FROM "_projector_dead_letters" AS shadow WHERE "pipeline" = $1 AND EXISTS (
                    SELECT 1 FROM "_projector_dead_letters" AS live WHERE live."pipeline" = $2
                    AND live."topic" = shadow."topic" AND live."partition" = shadow."partition"
                    AND live."offset" = shadow."offset")
                """,
                binds(key, pipeline), doing: doing)
            try session.execute(
                #"UPDATE "_projector_dead_letters" SET "pipeline" = $1 WHERE "pipeline" = $2"#, binds(pipeline, key), doing: doing)
            try session.execute(
                """
                INSERT INTO "_projector_pipelines" ("name", "version", "hash", "created_at", "rebuilt_at")
                VALUES ($1, $2, $3, $4, $4)
                ON CONFLICT ("name") DO UPDATE SET "version" = excluded."version", "hash" = excluded."hash",
                    "rebuilt_at" = excluded."rebuilt_at"
                """,
                binds(pipeline, Int64(newVersion), newHash, time), doing: doing)
            try session.execute(#"DELETE FROM "_projector_pipelines" WHERE "name" = $1"#, binds(key), doing: doing)
            if let shadow = generations.removeValue(forKey: key) {
                let tables = shadow.views.map(\.name)
                generations[pipeline] = PostgresGeneration(
                    version: newVersion, hash: newHash, views: shadow.views, tables: tables,
                    fingerprint: try fingerprint(key: pipeline, tables: tables),
                    statements: zip(tables, shadow.views).map { TableSQL(table: $0, definition: $1) })
            } else {
                generations[pipeline] = nil
            }
        }
    }

    /// Drops the shadow generation and its checkpoints, counters and dead letters, in one transaction.
    public func dropShadow(pipeline: String) throws {
        let key = storageKey(pipeline, .shadow)
        try transaction(locking: [key], doing: "dropping the shadow of pipeline \(pipeline)") {
            try dropGeneration(key: key)
            generations[key] = nil
        }
    }

    /// The SQL views (plain and materialized) reading any of the tables `$1`: qualified name,
    /// definition and kind, in creation order.
    static let dependentViewsSQL = """
        SELECT DISTINCT quote_ident(n.nspname) || '.' || quote_ident(v.relname), pg_get_viewdef(v.oid), v.relkind::text, v.oid
        FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
        JOIN pg_namespace n ON n.oid = v.relnamespace
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND v.oid <> d.refobjid
        AND v.relkind IN ('v', 'm') AND d.refobjid IN (
            SELECT c.oid FROM pg_class c WHERE c.relname = ANY($1::text[])
            AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()))
        ORDER BY v.oid
        """

    /// The generation's identity as stored: its hash and the OIDs of its tables.
    static let fingerprintSQL = """
        SELECT coalesce((SELECT "hash" FROM "_projector_pipelines" WHERE "name" = $1), '') || ':' ||
        coalesce((SELECT string_agg(c.oid::text, ',' ORDER BY c.relname COLLATE "C") FROM pg_class c
            WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
            AND c.relkind = 'r' AND c.relname = ANY($2::text[])), '')
        """

    func fingerprint(key: String, tables: [String]) throws -> String {
        try session.query(Self.fingerprintSQL, binds(key, tables), doing: "reading the identity of \(key)")
            .first.flatMap { Array($0)[0].text } ?? ""
    }

    /// Drops a generation's tables and every internal row under its key.
    private func dropGeneration(key: String) throws {
        for table in try liveTables(key: key) {
            try session.execute("DROP TABLE IF EXISTS \(quoted(table))", doing: "dropping table \(table)")
        }
        for table in ["_projector_views", "_projector_checkpoints", "_projector_counters", "_projector_dead_letters", "_projector_pipelines"] {
            let column = table == "_projector_pipelines" ? "name" : "pipeline"
            try session.execute("DELETE FROM \(quoted(table)) WHERE \(quoted(column)) = $1", binds(key), doing: "dropping \(key)")
        }
    }

    private func liveTables(key: String) throws -> [String] {
        try session.query(
            #"SELECT "table_name" FROM "_projector_views" WHERE "pipeline" = $1"#, binds(key), doing: "reading the tables of \(key)"
        ).compactMap { Array($0)[0].text }
    }

    func tableExists(_ name: String) throws -> Bool {
        try session.query(
            """
            SELECT 1 FROM pg_class WHERE relname = $1
            AND relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
            """,
            binds(name), doing: "looking for table \(name)"
        ).first != nil
    }

    /// Creates the missing tables of a generation and records which pipeline owns each view.
    private func createTables(pipeline: String, key: String, tables: [String], views: [ViewDefinition]) throws {
        for (table, view) in zip(tables, views) {
            let owners = try session.query(
                #"SELECT "pipeline" FROM "_projector_views" WHERE "name" = $1"#, binds(view.name), doing: "reading the owners of \(view.name)"
            ).compactMap { Array($0)[0].text }
            if let other = owners.first(where: { $0 != pipeline && $0 != pipeline + "@shadow" }) {
                throw ViewStoreError(
                    code: .viewOwned,
                    message: "view \(view.name) of pipeline \(pipeline) is already a view of pipeline "
                        + "\(other.replacing("@shadow", with: "")); rename one of the views")
            }
            let isOwned = owners.contains(key)
            // A shadow table is swapped in under the view's name, which must be ours or free.
            for name in Set([table, view.name]) where !owners.contains(name == table ? key : pipeline) {
                if try tableExists(name) {
                    throw ViewStoreError(
                        code: .viewOwned,
                        message: "the store already has a table \(name) that is not a view of pipeline \(pipeline); "
                            + "rename the view or drop that table")
                }
            }
            try session.execute(createTableSQL(table: table, view: view), doing: "creating table \(table)")
            // The read API reports declared types; boolean and json are stored as bigint and text.
            for column in view.columns {
                guard let comment = PostgresColumnType.comment(for: column.type) else { continue }
                try session.execute(
                    "COMMENT ON COLUMN \(quoted(table)).\(quoted(column.name)) IS '\(comment)'", doing: "recording the type of \(table).\(column.name)")
            }
            if !isOwned {
                try session.execute(
                    #"INSERT INTO "_projector_views" ("pipeline", "name", "table_name") VALUES ($1, $2, $3)"#,
                    binds(key, view.name, table), doing: "recording view \(view.name)")
            }
        }
    }

    /// `CREATE TABLE IF NOT EXISTS` with the declared columns and primary key (key columns `NOT NULL`).
    func createTableSQL(table: String, view: ViewDefinition) -> String {
        let columns = view.columns.enumerated().map { index, column in
            quoted(column.name) + " " + PostgresColumnType(column.type).sql + (view.keyColumns.contains(index) ? " NOT NULL" : "")
        }
        let key = view.keyColumns.map { quoted(view.columns[$0].name) }.joined(separator: ", ")
        return "CREATE TABLE IF NOT EXISTS \(quoted(table)) (\(columns.joined(separator: ", ")), PRIMARY KEY (\(key)))"
    }
}

/// Bindings of plain values (text, integers, arrays of them), in order.
func binds(_ values: any PostgresThrowingDynamicTypeEncodable...) throws -> PostgresBindings {
    var bindings = PostgresBindings(capacity: values.count)
    for value in values { try bindings.append(value) }
    return bindings
}
