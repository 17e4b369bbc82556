internal import GRDB
internal import GRDBSQLite
internal import ProjectorModel

/// The prepared statements of one table, cached for the store's life (until a swap or drop
/// replaces the table).
final class TableStatements {
    /// Rows per multi-row upsert or delete. Each SQLite statement step costs a fixed ~3,900
    /// instructions besides its rows' B-tree work; 32 rows a statement leave ~120 of it per row
    /// (measured with callgrind: 10,156 instructions per single-row upsert of an order_summary
    /// row, 6,400 / 6,268 / 6,202 per row at 16 / 32 / 64 rows; benchmarks/README.md, "Writing
    /// less SQL").
    static let chunk = 32

    let name: String
    let columnCount: Int32
    let keyColumns: [Int]
    /// The quoted column names, comma-separated, and the quoted key column names in key order.
    let columnList: String
    let keyNames: [String]
    /// The quoted column names, in declaration order.
    let columns: [String]
    let select: Statement
    let upsert: Statement
    let delete: Statement
    /// Rows per ``bulkUpsert`` and ``bulkDelete``: ``chunk``, fewer where a row's columns times
    /// ``chunk`` would pass SQLite's limit on parameters.
    let rowsPerBulk: Int
    /// Upserts ``rowsPerBulk`` rows in one statement (nil: one row a statement).
    let bulkUpsert: Statement?
    /// Deletes ``rowsPerBulk`` keys in one statement, for a one-column key (nil: one a statement;
    /// SQLite plans a row-value `IN` over a composite key as a table scan).
    let bulkDelete: Statement?
    /// The keys written since the table was found empty (nil: unknown, every read queries).
    var knownKeys: KnownKeys?
    /// SQLite's `data_version` when `knownKeys` started, or when a shadow writer of this rebuild
    /// closed (its commits were adopted): another connection's commit changes it.
    var knownSince: Int64
    /// The rows this connection last read or wrote, for a live table (no memory for a shadow's).
    var rows: RowCache
    /// Whether ``rows`` holds any: a constant, so a shadow's writes skip the cache without the
    /// exclusive access a `var` of a class costs.
    let cachesRows: Bool

    /// Prepares the statements; call inside a transaction, so that whether the table is empty and
    /// the `data_version` are read together. An empty table records its keys in `knownKeys`, the
    /// filter of its pipeline's tables, as the `index`-th.
    init(table: String, index: Int, definition: ViewDefinition, style: SQLiteViewStore.UpsertStyle,
         knownKeys filter: KnownKeys.Filter, rowCacheBytes: Int, db: Database) throws {
        name = table
        rows = RowCache(capacityBytes: rowCacheBytes)
        cachesRows = rowCacheBytes > 0
        knownSince = try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0
        let hasRows = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(quoted(table)))") ?? true
        knownKeys = hasRows ? nil : KnownKeys(filter: filter, table: index)
        columnCount = Int32(definition.columns.count)
        keyColumns = definition.keyColumns
        let columns = definition.columns.map { quoted($0.name) }
        self.columns = columns
        let keys = definition.keyColumns.map { columns[$0] }
        columnList = columns.joined(separator: ", ")
        keyNames = keys
        let keyMatch = keys.enumerated().map { "\($1) = ?\($0 + 1)" }.joined(separator: " AND ")
        select = try db.makeStatement(sql: "SELECT \(columnList) FROM \(quoted(table)) WHERE \(keyMatch)")
        delete = try db.makeStatement(sql: "DELETE FROM \(quoted(table)) WHERE \(keyMatch)")
        let upsertSQL = Self.upsertSQL(table: table, columns: columns, keyColumns: definition.keyColumns,
                                       updating: style == .replace ? nil : .max)
        upsert = try db.makeStatement(sql: upsertSQL(1))
        let parameters = Int(sqlite3_limit(db.sqliteConnection, SQLITE_LIMIT_VARIABLE_NUMBER, -1))
        rowsPerBulk = min(Self.chunk, parameters / max(columns.count, 1))
        bulkUpsert = rowsPerBulk > 1 ? try db.makeStatement(sql: upsertSQL(rowsPerBulk)) : nil
        if rowsPerBulk > 1 && keys.count == 1 {
            let list = (1...rowsPerBulk).map { "?\($0)" }.joined(separator: ", ")
            bulkDelete = try db.makeStatement(sql: "DELETE FROM \(quoted(table)) WHERE \(keys[0]) IN (\(list))")
        } else {
            bulkDelete = nil
        }
    }

    /// The upserts of rows of which only some columns are written (``ViewChange/assignedColumns``),
    /// one row and ``rowsPerBulk`` rows a statement, prepared when first needed: a pipeline has a
    /// few such sets of columns.
    private var assigning: [UInt64: (one: Statement, bulk: Statement?)] = [:]

    /// The statements that insert a row or, when its key is stored, write only `assigned` of its
    /// columns (a bit per column).
    func assigning(_ assigned: UInt64, db: Database) throws -> (one: Statement, bulk: Statement?) {
        if let statements = assigning[assigned] { return statements }
        let sql = Self.upsertSQL(table: name, columns: columns, keyColumns: keyColumns, updating: assigned)
        let statements = (one: try db.makeStatement(sql: sql(1)), bulk: rowsPerBulk > 1 ? try db.makeStatement(sql: sql(rowsPerBulk)) : nil)
        assigning[assigned] = statements
        return statements
    }

    /// The upsert of `rows` rows, row `r`'s columns bound to parameters `r * columns + 1`, ...:
    /// `INSERT … ON CONFLICT (key) DO UPDATE SET` the non-key columns of `updating` (a bit per
    /// column; `.max` all of them), or `INSERT OR REPLACE` when `updating` is nil.
    private static func upsertSQL(table: String, columns: [String], keyColumns: [Int], updating: UInt64?) -> (Int) -> String {
        let columnList = columns.joined(separator: ", ")
        var conflict = ""
        if let updating {
            let updates = columns.indices
                .filter { !keyColumns.contains($0) && ($0 >= 64 ? updating == .max : updating & (1 << UInt64($0)) != 0) }
                .map { "\(columns[$0]) = excluded.\(columns[$0])" }
            let action = updates.isEmpty ? "NOTHING" : "UPDATE SET " + updates.joined(separator: ", ")
            conflict = " ON CONFLICT (\(keyColumns.map { columns[$0] }.joined(separator: ", "))) DO \(action)"
        }
        let verb = updating == nil ? "INSERT OR REPLACE" : "INSERT"
        return { rows in
            let values = (0..<rows).map { row in
                "(" + (1...columns.count).map { "?\(row * columns.count + $0)" }.joined(separator: ", ") + ")"
            }
            return "\(verb) INTO \(quoted(table)) (\(columnList)) VALUES \(values.joined(separator: ", "))\(conflict)"
        }
    }
}
