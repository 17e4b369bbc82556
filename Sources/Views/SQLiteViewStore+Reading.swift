internal import Foundation
internal import GRDB
internal import GRDBSQLite
public import ProjectorModel

extension SQLiteViewStore {
    /// The checkpoints of the pipeline's `target` generation, ordered by topic and partition.
    public func checkpoints(pipeline: String, target: ViewTarget) throws -> [Checkpoint] {
        let key = storageKey(pipeline, target)
        return try read(doing: "reading the checkpoints of pipeline \(pipeline)") { db in
            try Self.checkpoints(key: key, db: db)
        }
    }

    static func checkpoints(key: String, db: Database) throws -> [Checkpoint] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT "topic", "partition", "next_offset" FROM "_projector_checkpoints"
                WHERE "pipeline" = ? ORDER BY "topic", "partition"
                """,
            arguments: [key]
        ).map { Checkpoint(topic: $0["topic"], partition: $0["partition"], nextOffset: $0["next_offset"]) }
    }

    /// Every pipeline with its identity, views, checkpoints and rebuild in progress, by name.
    public func pipelines() throws -> [PipelineStatus] {
        try read(doing: "listing pipelines") { db in
            let rows = try Row.fetchAll(
                db, sql: #"SELECT "name", "version", "hash", "created_at", "rebuilt_at" FROM "_projector_pipelines" ORDER BY "name""#)
            let isMigrated = try Self.hasAddedDeadLetterColumns(db)
            let shadows = Dictionary(
                uniqueKeysWithValues: rows.compactMap { row -> (String, Row)? in
                    let name: String = row["name"]
                    return name.hasSuffix("@shadow") ? (String(name.dropLast("@shadow".count)), row) : nil
                })
            return try rows.compactMap { row in
                let name: String = row["name"]
                if name.hasSuffix("@shadow") { return nil }
                let shadow = try shadows[name].map { shadow in
                    ShadowStatus(
                        version: shadow["version"], hash: shadow["hash"], createdAt: shadow["created_at"],
                        checkpoints: try Self.checkpoints(key: name + "@shadow", db: db))
                }
                var status = PipelineStatus(
                    name: name, version: row["version"], hash: row["hash"], createdAt: row["created_at"],
                    rebuiltAt: row["rebuilt_at"],
                    views: try String.fetchAll(
                        db, sql: #"SELECT "name" FROM "_projector_views" WHERE "pipeline" = ? ORDER BY "name""#,
                        arguments: [name]),
                    checkpoints: try Self.checkpoints(key: name, db: db), shadow: shadow,
                    deadLetters: try Int.fetchOne(
                        db, sql: #"SELECT count(*) FROM "_projector_dead_letters" WHERE "pipeline" = ?"#, arguments: [name]) ?? 0,
                    unpublishedDeadLetters: isMigrated ? try Int.fetchOne(
                        db, sql: #"SELECT count(*) FROM "_projector_dead_letters" WHERE "pipeline" = ? AND "published" = 0"#,
                        arguments: [name]) ?? 0 : 0)
                if let outbox = try Self.outboxDepth(pipeline: name, db: db) {
                    status.hasOutbox = true
                    status.outboxRecords = outbox.records
                    status.oldestUnsentTimestamp = outbox.oldest
                }
                status.pendingTimers = try Self.pendingTimers(pipeline: name, db: db)
                return status
            }
        }
    }

    /// The rows of a view (any table of the store) ordered by primary key.
    public func rows(ofView view: String, limit: Int?) throws -> ViewRows {
        try read(doing: "reading view \(view)") { db in
            let layout = try Self.layout(ofView: view, db: db)
            var sql = "SELECT \(layout.selectList) FROM \(quoted(view)) ORDER BY \(layout.orderList)"
            if let limit { sql += " LIMIT \(max(0, limit))" }
            // Raw reads: GRDB reads text as a C string, which would cut it at a NUL byte.
            var cursor = try RowCursor(statement: db.makeStatement(sql: sql), columns: layout.columns.count, connection: db.sqliteConnection)
            var rows: [[ViewValue]] = []
            while let row = try cursor.next() {
                rows.append(row)
            }
            return ViewRows(columns: layout.columns, rows: rows)
        }
    }

    /// Dead letters ordered by id, of one pipeline (`nil`: all), at most `limit`.
    public func deadLetters(pipeline: String?, limit: Int?) throws -> [StoredDeadLetter] {
        try read(doing: "reading dead letters") { db in
            try Self.fetchDeadLetters(db, pipeline: pipeline, pendingAfter: nil, limit: limit)
        }
    }

    /// The pipeline's live counters by name.
    public func counters(pipeline: String) throws -> [String: Int64] {
        try read(doing: "reading the counters of pipeline \(pipeline)") { db in
            let rows = try Row.fetchAll(
                db, sql: #"SELECT "name", "value" FROM "_projector_counters" WHERE "pipeline" = ?"#,
                arguments: [pipeline])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as String, $0["value"] as Int64) })
        }
    }

    /// The digest of a view (any table of the store, such as a shadow table); see ``ViewDigest``.
    public func digest(ofView view: String) throws -> ViewDigest {
        try read(doing: "computing the digest of view \(view)") { db in
            try Self.digest(ofView: view, db: db)
        }
    }

    /// The pipeline's live checkpoints and the digest of each of `views`, read in ONE snapshot, so
    /// the digests are those of the views exactly at those checkpoints (for `projector verify`).
    public func digests(ofViews views: [String], pipeline: String) throws -> (checkpoints: [Checkpoint], digests: [ViewDigest]) {
        try read(doing: "computing the digests of pipeline \(pipeline)") { db in
            (try Self.checkpoints(key: pipeline, db: db), try views.map { try Self.digest(ofView: $0, db: db) })
        }
    }

    /// The row of `view` with primary key `key` (values in key column order), or `nil`.
    public func row(inView view: String, key: [ViewValue]) throws -> [ViewValue]? {
        try read(doing: "reading a row of view \(view)") { db in
            let layout = try Self.layout(ofView: view, db: db)
            guard key.count == layout.keyColumns.count else {
                throw ViewStoreError(
                    code: .invalidDefinition,
                    message: "a key of \(view) has \(key.count) values but the view's key has \(layout.keyColumns.count)")
            }
            let match = layout.keyColumns.enumerated().map { "\(quoted(layout.columns[$1])) = ?\($0 + 1)" }
            let statement = try db.makeStatement(
                sql: "SELECT \(layout.selectList) FROM \(quoted(view)) WHERE \(match.joined(separator: " AND "))")
            for (index, value) in key.enumerated() {
                try bind(value, at: Int32(index + 1), in: statement.sqliteStatement, connection: db.sqliteConnection)
            }
            var cursor = RowCursor(statement: statement, columns: layout.columns.count, connection: db.sqliteConnection)
            return try cursor.next()
        }
    }

    static func digest(ofView view: String, db: Database) throws -> ViewDigest {
        let layout = try Self.layout(ofView: view, db: db)
        let statement = try db.makeStatement(sql: "SELECT \(layout.selectList) FROM \(quoted(view))")
        let handle = statement.sqliteStatement
        let count = Int32(layout.columns.count)
        var digest = RowDigest()
        defer { sqlite3_reset(handle) }
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw sqliteError(code: code, connection: db.sqliteConnection, doing: "reading view \(view)")
            }
            for index in 0..<count {
                switch sqlite3_column_type(handle, index) {
                case SQLITE_NULL:
                    digest.appendNull()
                case SQLITE_INTEGER:
                    digest.append(integer: sqlite3_column_int64(handle, index))
                case SQLITE_FLOAT:
                    digest.append(real: sqlite3_column_double(handle, index))
                case SQLITE_TEXT:
                    let bytes = sqlite3_column_text(handle, index)
                    let length = Int(sqlite3_column_bytes(handle, index))
                    digest.append(text: UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : length))
                default:
                    let bytes = sqlite3_column_blob(handle, index)
                    let length = Int(sqlite3_column_bytes(handle, index))
                    digest.append(blob: UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : length))
                }
            }
            digest.endRow()
        }
        return digest.digest
    }

    /// Up to `limit` keys whose rows differ between `view` here and `otherView` in `other`, by a
    /// merge of the key-ordered rows, each store read in one snapshot. A store of another kind is
    /// read whole through ``ViewStoreReader/rows(ofView:limit:)`` and ordered as SQLite orders keys.
    public func differingKeys(
        inView view: String, comparedWith other: any ViewStoreReader, otherView: String?, limit: Int
    ) throws -> [[ViewValue]] {
        let otherView = otherView ?? view
        if limit <= 0 || (other === self && otherView == view) { return [] }
        return try read(doing: "comparing view \(view)") { db in
            let layout = try Self.layout(ofView: view, db: db)
            var left = try RowCursor(
                statement: db.makeStatement(sql: layout.orderedQuery(view)), columns: layout.columns.count,
                connection: db.sqliteConnection)
            if other === self {
                try Self.checkSameLayout(view, layout, otherView, Self.layout(ofView: otherView, db: db))
                var right = try RowCursor(
                    statement: db.makeStatement(sql: layout.orderedQuery(otherView)), columns: layout.columns.count,
                    connection: db.sqliteConnection)
                return try keyOrderedDifference(keyColumns: layout.keyColumns, limit: limit, left: { try left.next() }, right: { try right.next() })
            }
            if let other = other as? SQLiteViewStore {
                return try other.read(doing: "comparing view \(otherView)") { otherDB in
                    try Self.checkSameLayout(view, layout, otherView, Self.layout(ofView: otherView, db: otherDB))
                    var right = try RowCursor(
                        statement: otherDB.makeStatement(sql: layout.orderedQuery(otherView)),
                        columns: layout.columns.count, connection: otherDB.sqliteConnection)
                    return try keyOrderedDifference(keyColumns: layout.keyColumns, limit: limit, left: { try left.next() }, right: { try right.next() })
                }
            }
            let rows = try other.rows(ofView: otherView, limit: nil)
            guard rows.columns == layout.columns else {
                throw ViewStoreError(
                    code: .schemaMismatch,
                    message: "view \(view) has columns \(layout.columns) but \(otherView) has \(rows.columns); "
                        + "compare views of one definition")
            }
            let keyOf = { (row: [ViewValue]) in layout.keyColumns.map { row[$0] } }
            var right = rows.rows.sorted { ViewValue.precedes(keyOf($0), keyOf($1)) }.makeIterator()
            return try keyOrderedDifference(keyColumns: layout.keyColumns, limit: limit, left: { try left.next() }, right: { right.next() })
        }
    }

    private static func checkSameLayout(_ view: String, _ layout: Layout, _ otherView: String, _ otherLayout: Layout) throws {
        guard layout.columns == otherLayout.columns && layout.keyColumns == otherLayout.keyColumns else {
            throw ViewStoreError(
                code: .schemaMismatch,
                message: "view \(view) has columns \(layout.columns) keyed by \(layout.keyColumns) but \(otherView) has "
                    + "\(otherLayout.columns) keyed by \(otherLayout.keyColumns); compare views of one definition")
        }
    }

    /// A view's columns in declaration order and its key, read from the table itself.
    struct Layout {
        var columns: [String]
        var keyColumns: [Int]
        var selectList: String { columns.map(quoted).joined(separator: ", ") }
        var orderList: String { keyColumns.map { quoted(columns[$0]) }.joined(separator: ", ") }
        func orderedQuery(_ table: String) -> String { "SELECT \(selectList) FROM \(quoted(table)) ORDER BY \(orderList)" }
    }

    static func layout(ofView view: String, db: Database) throws -> Layout {
        let rows = try Row.fetchAll(db, sql: #"SELECT "name", "pk" FROM pragma_table_info(?) ORDER BY "cid""#, arguments: [view])
        guard !rows.isEmpty else {
            throw ViewStoreError(code: .noSuchView, message: "the store has no view \(view); `projector status` lists the views")
        }
        let columns = rows.map { $0["name"] as String }
        let keyColumns = rows.enumerated()
            .compactMap { index, row -> (Int, Int)? in
                let position: Int = row["pk"]
                return position > 0 ? (position, index) : nil
            }
            .sorted { $0.0 < $1.0 }
            .map(\.1)
        return Layout(columns: columns, keyColumns: keyColumns.isEmpty ? Array(columns.indices) : keyColumns)
    }
}

/// Steps a statement row by row as `[ViewValue]`.
struct RowCursor {
    let statement: Statement
    let columns: Int32
    let connection: OpaquePointer?

    init(statement: Statement, columns: Int, connection: OpaquePointer?) {
        self.statement = statement
        self.columns = Int32(columns)
        self.connection = connection
    }

    mutating func next() throws -> [ViewValue]? {
        let handle = statement.sqliteStatement
        switch sqlite3_step(handle) {
        case SQLITE_ROW:
            return (0..<columns).map { column($0, of: handle) }
        case SQLITE_DONE:
            return nil
        case let code:
            throw sqliteError(code: code, connection: connection, doing: "reading rows")
        }
    }
}
