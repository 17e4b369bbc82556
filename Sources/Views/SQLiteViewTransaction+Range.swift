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
        guard keyPrefix.count < table.keyNames.count else {
            throw ViewStoreError(
                code: .invalidDefinition,
                message: "a key range of \(table.name) gives \(keyPrefix.count) of its \(table.keyNames.count) key columns; it needs fewer")
        }
        var conditions = keyPrefix.indices.map { "\(table.keyNames[$0]) = ?\($0 + 1)" }
        conditions.append("\(table.keyNames[keyPrefix.count]) <= ?\(keyPrefix.count + 1)")
        let sql = "SELECT \(table.columnList) FROM \(quoted(table.name)) WHERE \(conditions.joined(separator: " AND ")) "
            + "ORDER BY \(table.keyNames.joined(separator: ", "))"
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
