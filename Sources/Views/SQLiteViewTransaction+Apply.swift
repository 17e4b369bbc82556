internal import GRDB
internal import GRDBSQLite
internal import ProjectorModel

/// Writing a batch's rows: runs of changes to one table are written ``TableStatements/rowsPerBulk``
/// rows a statement (multi-row upserts, `DELETE … IN (…)`), the rest one row a statement.
///
/// Each table's changes are applied in their order: a run ends where the kind (upsert, delete,
/// upsert of some columns — the same ``ViewChange/assignedColumns``) changes, and within one statement SQLite writes the rows in order, so a key given twice ends as
/// its last row, as with one statement per row. A failing statement changes nothing of its rows,
/// and the store rolls the whole batch back.
extension SQLiteViewTransaction {
    /// `true`: SQLite's B-trees take rows in key order with locality. While the file fits the
    /// page cache, a 20,000-event rebuild's window took 78.8 M instructions to write in key order
    /// against 96.2 M in first-touch order (the sort itself 16.4 M); once it outgrew the cache,
    /// first-touch order had SQLite write out each index page and read it back many times per
    /// window: a 20,000,000-event rebuild spent 40 s in the kernel and wrote 10 GB for an 891 MB
    /// file, 15 s in key order (benchmarks/README.md, "Windows written in key order").
    func writesFasterInKeyOrder() -> Bool { true }

    mutating func apply(_ changes: [ViewChange]) throws {
        // Table by table, each table's changes in their order: a batch's changes interleave its
        // tables in first-touch order (an order_summary event touches both views), which would
        // leave runs of ~3 rows. Tables are independent, so only each table's own order matters.
        var order: [Int] = []
        order.reserveCapacity(changes.count)
        for view in tables.indices {
            for index in changes.indices where changes[index].view == view { order.append(index) }
        }
        if order.count < changes.count, let stray = changes.first(where: { !tables.indices.contains($0.view) }) {
            _ = try table(stray.view)  // throws: the change names a table the pipeline lacks
        }
        var start = 0
        while start < order.count {
            let view = changes[order[start]].view
            let table = try table(view)
            let upserts = changes[order[start]].row != nil
            let assigned = changes[order[start]].assignedColumns
            var end = start + 1
            while end < order.count, changes[order[end]].view == view, (changes[order[end]].row != nil) == upserts,
                  changes[order[end]].assignedColumns == assigned { end += 1 }
            if upserts {
                let statements = try assigned.map { try table.assigning($0, db: db) }
                try upsert(changes, order[start..<end], into: table, with: statements ?? (table.upsert, table.bulkUpsert))
            } else {
                try delete(changes, order[start..<end], from: table)
            }
            start = end
        }
    }

    // By index, passing the arrays in place: binding each change to a local would retain and
    // release its key and row once more per row.

    private func upsert(_ changes: [ViewChange], _ run: ArraySlice<Int>, into table: TableStatements,
                        with statements: (one: Statement, bulk: Statement?)) throws {
        let rest = try writeBulk(run, with: statements.bulk, of: table, width: Int(table.columnCount), doing: "upserting") { index in
            try check(changes[index].row!, of: table)
            return changes[index].row!
        }
        for index in run[..<rest] { remember(changes[index], in: table) }
        let statement = statements.one.sqliteStatement
        for index in run[rest...] {
            try check(changes[index].row!, of: table)
            try common.arena.bind(changes[index].row!, in: statement, connection: connection)
            try execute(statement, connection: connection, doing: "upserting a row of \(table.name)")
            remember(changes[index], in: table)
        }
    }

    private func delete(_ changes: [ViewChange], _ run: ArraySlice<Int>, from table: TableStatements) throws {
        let rest = try writeBulk(run, with: table.bulkDelete, of: table, width: 1, doing: "deleting") { index in
            try checkKey(changes[index].key, of: table)
            return changes[index].key
        }
        let statement = table.delete.sqliteStatement
        for index in run[rest...] {
            try bindKey(changes[index].key, of: table, in: statement)
            try execute(statement, connection: connection, doing: "deleting a row of \(table.name)")
        }
        if table.cachesRows {
            for index in run { table.rows.record(changes[index].key, nil) }
        }
    }

    /// Writes whole chunks of ``TableStatements/rowsPerBulk`` changes of `run` with `bulk`, each
    /// change binding `width` parameters from `values`; returns where the tail for the single-row
    /// statement starts (`run.startIndex` without a bulk statement).
    private func writeBulk(_ run: ArraySlice<Int>, with bulk: Statement?, of table: TableStatements, width: Int, doing: String,
                           values: (Int) throws -> [ViewValue]) throws -> Int {
        var first = run.startIndex
        guard let bulk = bulk?.sqliteStatement else { return first }
        let rows = table.rowsPerBulk
        while run.endIndex - first >= rows {
            let chunk = first..<first + rows
            var bytes = 0
            for index in run[chunk] { bytes += BindArena.textBytes(try values(index)) }
            common.arena.reserve(bytes)
            for position in chunk {
                try common.arena.append(try values(run[position]), from: Int32((position - first) * width + 1),
                                        in: bulk, connection: connection)
            }
            try execute(bulk, connection: connection, doing: "\(doing) \(rows) rows of \(table.name)")
            first += rows
        }
        return first
    }

    private func check(_ row: [ViewValue], of table: TableStatements) throws {
        guard row.count == Int(table.columnCount) else {
            throw ViewStoreError(
                code: .invalidDefinition,
                message: "a row of \(table.name) has \(row.count) values but the table has \(table.columnCount) columns")
        }
    }

    /// Records a written row (of a row written in part, only that its key is stored: the cache
    /// forgets what it held of it).
    private func remember(_ change: ViewChange, in table: TableStatements) {
        table.knownKeys?.insert(change.key)
        if table.cachesRows {
            if change.assignedColumns == nil {
                table.rows.record(change.key, change.row)
            } else {
                table.rows.forget(change.key)
            }
        }
    }
}
