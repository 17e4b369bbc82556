internal import PostgresNIO
public import ProjectorModel
public import Views

extension PostgresViewStore {
    /// The checkpoints of the pipeline's `target` generation, ordered by topic and partition.
    public func checkpoints(pipeline: String, target: ViewTarget) throws -> [Checkpoint] {
        let key = storageKey(pipeline, target)
        return try read(doing: "reading the checkpoints of pipeline \(pipeline)") { try checkpoints(key: key) }
    }

    func checkpoints(key: String) throws -> [Checkpoint] {
        try session.query(
            """
            SELECT "topic", "partition", "next_offset" FROM "_projector_checkpoints"
            WHERE "pipeline" = $1 ORDER BY "topic" COLLATE "C", "partition"
            """,
            binds(key), doing: "reading the checkpoints of \(key)"
        ).map { row in
            let cells = Array(row)
            return Checkpoint(topic: cells[0].text ?? "", partition: Int32(cells[1].integer ?? 0), nextOffset: cells[2].integer ?? 0)
        }
    }

    /// Every pipeline with its identity, views, checkpoints and rebuild in progress, by name.
    public func pipelines() throws -> [PipelineStatus] {
        try read(doing: "listing pipelines") {
            let rows = try session.query(
                #"SELECT "name", "version", "hash", "created_at", "rebuilt_at" FROM "_projector_pipelines" ORDER BY "name" COLLATE "C""#,
                doing: "listing pipelines"
            ).map(Array.init)
            var shadows: [String: [PostgresCell]] = [:]
            for row in rows {
                if let name = row[0].text, name.hasSuffix("@shadow") { shadows[String(name.dropLast("@shadow".count))] = row }
            }
            return try rows.compactMap { row -> PipelineStatus? in
                let name = row[0].text ?? ""
                if name.hasSuffix("@shadow") { return nil }
                let shadow = try shadows[name].map { shadow in
                    ShadowStatus(
                        version: Int(shadow[1].integer ?? 0), hash: shadow[2].text ?? "", createdAt: shadow[3].text ?? "",
                        checkpoints: try checkpoints(key: name + "@shadow"))
                }
                let counts = try session.query(
                    """
                    SELECT count(*), count(*) FILTER (WHERE "published" = 0) FROM "_projector_dead_letters" WHERE "pipeline" = $1
                    """,
                    binds(name), doing: "counting the dead letters of \(name)"
                ).first.map(Array.init)
                var status = PipelineStatus(
                    name: name, version: Int(row[1].integer ?? 0), hash: row[2].text ?? "", createdAt: row[3].text ?? "",
                    rebuiltAt: row[4].text,
                    views: try session.query(
                        #"SELECT "name" FROM "_projector_views" WHERE "pipeline" = $1 ORDER BY "name" COLLATE "C""#,
                        binds(name), doing: "listing the views of \(name)"
                    ).compactMap { Array($0)[0].text },
                    checkpoints: try checkpoints(key: name), shadow: shadow,
                    deadLetters: Int(counts?[0].integer ?? 0), unpublishedDeadLetters: Int(counts?[1].integer ?? 0))
                if let outbox = try outboxDepth(pipeline: name) {
                    status.hasOutbox = true
                    status.outboxRecords = outbox.records
                    status.oldestUnsentTimestamp = outbox.oldest
                }
                status.pendingTimers = try pendingTimers(pipeline: name)
                return status
            }
        }
    }

    /// The rows of a view (any table of the store's schema) ordered by primary key.
    public func rows(ofView view: String, limit: Int?) throws -> ViewRows {
        try read(doing: "reading view \(view)") { try rows(view: view, limit: limit) }
    }

    func rows(view: String, limit: Int?) throws -> ViewRows {
        let layout = try layout(ofView: view)
        var sql = layout.orderedQuery(view)
        if let limit { sql += " LIMIT \(max(0, limit))" }
        let rows = try session.query(sql, doing: "reading view \(view)").map { row in
            try row.map { try $0.viewValue(table: view) }
        }
        return ViewRows(columns: layout.columns, rows: rows)
    }

    /// Dead letters ordered by id, of one pipeline (`nil`: all), at most `limit`.
    public func deadLetters(pipeline: String?, limit: Int?) throws -> [StoredDeadLetter] {
        try read(doing: "reading dead letters") {
            try Self.fetchDeadLetters(session, pipeline: pipeline, pendingAfter: nil, limit: limit)
        }
    }

    /// The pipeline's live counters by name.
    public func counters(pipeline: String) throws -> [String: Int64] {
        try read(doing: "reading the counters of pipeline \(pipeline)") {
            let rows = try session.query(
                #"SELECT "name", "value" FROM "_projector_counters" WHERE "pipeline" = $1"#, binds(pipeline),
                doing: "reading the counters of pipeline \(pipeline)")
            return Dictionary(uniqueKeysWithValues: rows.map { row in
                let cells = Array(row)
                return (cells[0].text ?? "", cells[1].integer ?? 0)
            })
        }
    }

    /// The digest of a view (any table of the store, such as a shadow table); see ``ViewDigest``.
    public func digest(ofView view: String) throws -> ViewDigest {
        try read(doing: "computing the digest of view \(view)") { try digest(view: view) }
    }

    /// The pipeline's live checkpoints and the digest of each of `views`, read in ONE snapshot.
    public func digests(ofViews views: [String], pipeline: String) throws -> (checkpoints: [Checkpoint], digests: [ViewDigest]) {
        try read(doing: "computing the digests of pipeline \(pipeline)") {
            (try checkpoints(key: pipeline), try views.map { try digest(view: $0) })
        }
    }

    /// The same digest as `SQLiteViewStore` gives for the same rows: cells as integers, reals
    /// and text, type exact.
    private func digest(view: String) throws -> ViewDigest {
        let layout = try layout(ofView: view)
        var digest = RowDigest()
        for row in try session.query("SELECT \(layout.selectList) FROM \(quoted(view))", doing: "reading view \(view)") {
            for cell in row {
                if cell.dataType == .bytea, let bytes = cell.byteArray {
                    bytes.withUnsafeBytes { digest.append(blob: $0) }
                } else {
                    digest.append(try cell.viewValue(table: view))
                }
            }
            digest.endRow()
        }
        return digest.digest
    }

    /// The row of `view` with primary key `key` (values in key column order), or `nil`.
    public func row(inView view: String, key: [ViewValue]) throws -> [ViewValue]? {
        try read(doing: "reading a row of view \(view)") {
            let layout = try layout(ofView: view)
            guard key.count == layout.keyColumns.count else {
                throw ViewStoreError(
                    code: .invalidDefinition,
                    message: "a key of \(view) has \(key.count) values but the view's key has \(layout.keyColumns.count)")
            }
            if key.contains(.null) { return nil }
            let match = layout.keyColumns.enumerated().map { "\(quoted(layout.columns[$1])) = $\($0 + 1)" }
            var bindings = PostgresBindings()
            for (value, column) in zip(key, layout.keyColumns) {
                try bindings.append(ColumnArray.Scalar(value: value, type: layout.types[column]))
            }
            return try session.query(
                "SELECT \(layout.selectList) FROM \(quoted(view)) WHERE \(match.joined(separator: " AND "))", bindings,
                doing: "reading a row of view \(view)"
            ).first.map { row in try row.map { try $0.viewValue(table: view) } }
        }
    }

    /// Up to `limit` keys whose rows differ between `view` here and `otherView` in `other`: both
    /// views read whole (each store in one snapshot), ordered by key as SQLite orders keys, merged.
    public func differingKeys(
        inView view: String, comparedWith other: any ViewStoreReader, otherView: String?, limit: Int
    ) throws -> [[ViewValue]] {
        let otherView = otherView ?? view
        if limit <= 0 || (other === self && otherView == view) { return [] }
        let (left, right) = try read(doing: "comparing view \(view)") { () -> (ViewRows, ViewRows) in
            let left = try rows(view: view, limit: nil)
            let right = other === self ? try rows(view: otherView, limit: nil) : nil
            if other === self {
                let leftLayout = try self.layout(ofView: view)
                let rightLayout = try self.layout(ofView: otherView)
                guard leftLayout.columns == rightLayout.columns && leftLayout.keyColumns == rightLayout.keyColumns else {
                    throw ViewStoreError(
                        code: .schemaMismatch,
                        message: "view \(view) has columns \(leftLayout.columns) keyed by \(leftLayout.keyColumns) but \(otherView) has "
                            + "\(rightLayout.columns) keyed by \(rightLayout.keyColumns); compare views of one definition")
                }
            }
            return (left, right ?? ViewRows(columns: [], rows: []))
        }
        let layout = try read(doing: "comparing view \(view)") { try self.layout(ofView: view) }
        let otherRows = other === self ? right : try other.rows(ofView: otherView, limit: nil)
        guard otherRows.columns == left.columns else {
            throw ViewStoreError(
                code: .schemaMismatch,
                message: "view \(view) has columns \(left.columns) but \(otherView) has \(otherRows.columns); compare views of one definition")
        }
        let keyOf = { (row: [ViewValue]) in layout.keyColumns.map { row[$0] } }
        var a = left.rows.sorted { ViewValue.precedes(keyOf($0), keyOf($1)) }.makeIterator()
        var b = otherRows.rows.sorted { ViewValue.precedes(keyOf($0), keyOf($1)) }.makeIterator()
        return keyOrderedDifference(keyColumns: layout.keyColumns, limit: limit, left: { a.next() }, right: { b.next() })
    }

    /// A table's columns in declaration order, their types and its key, read from the catalog.
    struct Layout {
        var columns: [String]
        var types: [PostgresColumnType]
        var keyColumns: [Int]
        var selectList: String { columns.map(quoted).joined(separator: ", ") }
        func orderedQuery(_ table: String) -> String {
            let order = keyColumns.map { quoted(columns[$0]) + (types[$0] == .text ? #" COLLATE "C""# : "") }
            return "SELECT \(selectList) FROM \(quoted(table)) ORDER BY \(order.joined(separator: ", "))"
        }
    }

    func layout(ofView view: String) throws -> Layout {
        let rows = try session.query(
            """
            SELECT a.attname::text, format_type(a.atttypid, NULL),
                (SELECT k.n FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                 WHERE i.indrelid = c.oid AND i.indisprimary AND k.attnum = a.attnum)
            FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
            WHERE c.relname = $1 AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
            AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """,
            binds(view), doing: "reading the columns of \(view)"
        ).map(Array.init)
        guard !rows.isEmpty else {
            throw ViewStoreError(code: .noSuchView, message: "the store has no view \(view); `projector status` lists the views")
        }
        let columns = rows.map { $0[0].text ?? "" }
        let types = rows.map { row -> PostgresColumnType in
            switch row[1].text ?? "" {
            case "bigint", "integer", "smallint", "boolean": .bigint
            case "double precision", "real": .double
            default: .text
            }
        }
        let keyColumns = rows.enumerated()
            .compactMap { index, row -> (Int64, Int)? in row[2].integer.map { ($0, index) } }
            .sorted { $0.0 < $1.0 }
            .map(\.1)
        return Layout(columns: columns, types: types, keyColumns: keyColumns.isEmpty ? Array(columns.indices) : keyColumns)
    }
}
