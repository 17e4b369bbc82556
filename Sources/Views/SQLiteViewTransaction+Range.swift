internal import GRDB
internal import GRDBSQLite
internal import ProjectorModel

extension SQLiteViewTransaction {
    /// One range of a table's primary key (`RowReader.rows(in:keyPrefix:upTo:)`): a rare read
    /// (timers: once per partition and batch), so its statement is GRDB's cached one, not a
    /// prepared statement of the table.
    mutating func rows(in view: Int, keyPrefix: [ViewValue], upTo: ViewValue) throws -> [[ViewValue]] {
        guard tables.indices.contains(view) else {
            throw ViewStoreError(code: .invalidDefinition, message: "pipeline \(pipeline) has no table #\(view)")
        }
        let table = tables[view]
        let sql = try KeyRangeSQL.select(columns: table.columnList, from: table.name, keyNames: table.keyNames,
                                         prefixCount: keyPrefix.count) { "?\($0)" }
        // Key columns are NOT NULL: a null bound matches nothing.
        if keyPrefix.contains(.null) || upTo == .null { return [] }
        let statement = try db.cachedStatement(sql: sql).sqliteStatement
        try common.arena.bind(keyPrefix + [upTo], in: statement, connection: connection)
        defer { sqlite3_reset(statement) }
        var rows: [[ViewValue]] = []
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW:
                rows.append((0..<table.columnCount).map { column($0, of: statement) })
            case SQLITE_DONE:
                return rows
            case let code:
                throw sqliteError(code: code, connection: connection, doing: "reading a key range of \(table.name)")
            }
        }
    }
}
