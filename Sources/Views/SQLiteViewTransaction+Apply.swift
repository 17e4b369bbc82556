internal import GRDB
internal import GRDBSQLite
internal import ProjectorModel

/// Writing a batch's rows: runs of changes to one table are written ``TableStatements/rowsPerBulk``
/// rows a statement (multi-row upserts, `DELETE … IN (…)`), the rest one row a statement.
///
/// Changes are applied in their order: a run ends where the table or the kind (upsert, delete)
/// changes, and within one statement SQLite writes the rows in order, so a key given twice ends as
/// its last row, as with one statement per row. A failing statement changes nothing of its rows,
/// and the store rolls the whole batch back.
extension SQLiteViewTransaction {
    mutating func apply(_ changes: [ViewChange]) throws {
        var start = changes.startIndex
        while start < changes.endIndex {
            let view = changes[start].view
            let table = try table(view)
            let upserts = changes[start].row != nil
            var end = start + 1
            while end < changes.endIndex, changes[end].view == view, (changes[end].row != nil) == upserts { end += 1 }
            if upserts {
                try upsert(changes, start..<end, into: table)
            } else {
                try delete(changes, start..<end, from: table)
            }
            start = end
        }
    }

    // By index, passing the arrays in place: binding each change to a local would retain and
    // release its key and row once more per row.

    private func upsert(_ changes: [ViewChange], _ run: Range<Int>, into table: TableStatements) throws {
        var first = run.lowerBound
        if let bulk = table.bulkUpsert?.sqliteStatement {
            let rows = table.rowsPerBulk
            let width = Int(table.columnCount)
            while run.upperBound - first >= rows {
                let chunk = first..<first + rows
                var bytes = 0
                for index in chunk {
                    try check(changes[index].row!, of: table)
                    bytes += BindArena.textBytes(changes[index].row!)
                }
                common.arena.reserve(bytes)
                for index in chunk {
                    try common.arena.append(changes[index].row!, from: Int32((index - first) * width + 1), in: bulk,
                                            connection: connection)
                }
                try execute(bulk, connection: connection, doing: "upserting \(rows) rows of \(table.name)")
                for index in chunk { remember(changes[index].key, in: table) }
                first += rows
            }
        }
        let statement = table.upsert.sqliteStatement
        for index in first..<run.upperBound {
            try check(changes[index].row!, of: table)
            try common.arena.bind(changes[index].row!, in: statement, connection: connection)
            try execute(statement, connection: connection, doing: "upserting a row of \(table.name)")
            remember(changes[index].key, in: table)
        }
    }

    private func delete(_ changes: [ViewChange], _ run: Range<Int>, from table: TableStatements) throws {
        var first = run.lowerBound
        if let bulk = table.bulkDelete?.sqliteStatement {
            let rows = table.rowsPerBulk
            while run.upperBound - first >= rows {
                let chunk = first..<first + rows
                var bytes = 0
                for index in chunk {
                    try checkKey(changes[index].key, of: table)
                    bytes += BindArena.textBytes(changes[index].key)
                }
                common.arena.reserve(bytes)
                for index in chunk {
                    try common.arena.append(changes[index].key, from: Int32(index - first + 1), in: bulk, connection: connection)
                }
                try execute(bulk, connection: connection, doing: "deleting \(rows) rows of \(table.name)")
                first += rows
            }
        }
        let statement = table.delete.sqliteStatement
        for index in first..<run.upperBound {
            try bindKey(changes[index].key, of: table, in: statement)
            try execute(statement, connection: connection, doing: "deleting a row of \(table.name)")
        }
    }

    private func check(_ row: [ViewValue], of table: TableStatements) throws {
        guard row.count == Int(table.columnCount) else {
            throw ViewStoreError(
                code: .invalidDefinition,
                message: "a row of \(table.name) has \(row.count) values but the table has \(table.columnCount) columns")
        }
    }

    /// Records a written key; past ``KnownKeys/limit`` the table forgets them and queries every read.
    private func remember(_ key: [ViewValue], in table: TableStatements) {
        if table.knownKeys?.insert(key) == false { table.knownKeys = nil }
    }
}
