internal import GRDB
internal import GRDBSQLite
public import ProjectorModel

extension SQLiteViewStore {
    /// The live views of every pipeline with their pipeline's live checkpoints, in one snapshot.
    public func viewDescriptions() throws -> [ViewDescription] {
        try read(doing: "listing the views") { db in
            let owned = try Row.fetchAll(
                db, sql: #"SELECT "pipeline", "name" FROM "_projector_views" WHERE "pipeline" NOT LIKE '%@shadow' ORDER BY "name""#)
            var pipelines: [String: (generation: String, checkpoints: [Checkpoint])] = [:]
            return try owned.map { row in
                let pipeline: String = row["pipeline"]
                let name: String = row["name"]
                if pipelines[pipeline] == nil {
                    pipelines[pipeline] = (try generation(pipeline: pipeline, db: db), try Self.checkpoints(key: pipeline, db: db))
                }
                return try Self.describe(view: name, pipeline: pipeline, generation: pipelines[pipeline]!.generation,
                                         checkpoints: pipelines[pipeline]!.checkpoints, db: db)
            }
        }
    }

    /// One page of a live view, read in one snapshot with its description and checkpoints.
    public func query(_ query: ViewQuery, maxLimit: Int) throws -> ViewPage {
        try read(doing: "reading view \(query.view)") { db in
            guard let pipeline = try String.fetchOne(
                db, sql: #"SELECT "pipeline" FROM "_projector_views" WHERE "name" = ? AND "pipeline" NOT LIKE '%@shadow'"#,
                arguments: [query.view])
            else {
                throw ViewStoreError(code: .noSuchView, message: "no view \(query.view); GET /views lists the views")
            }
            let view = try Self.describe(
                view: query.view, pipeline: pipeline, generation: try generation(pipeline: pipeline, db: db),
                checkpoints: try Self.checkpoints(key: pipeline, db: db), db: db)
            let resolved = try query.resolve(against: view, maxLimit: maxLimit)
            let (sql, arguments) = Self.sql(resolved)
            let statement = try db.makeStatement(sql: sql)
            for (index, value) in arguments.enumerated() {
                try bind(value, at: Int32(index + 1), in: statement.sqliteStatement, connection: db.sqliteConnection)
            }
            var cursor = RowCursor(statement: statement, columns: view.columns.count, connection: db.sqliteConnection)
            var rows: [[ViewValue]] = []
            while let row = try cursor.next() {
                rows.append(row)
            }
            var next: String?
            if rows.count > resolved.limit {
                rows.removeLast(rows.count - resolved.limit)
                next = resolved.cursor(after: rows[rows.count - 1])
            }
            return ViewPage(view: view, rows: rows, nextCursor: next)
        }
    }

    /// The statement of a resolved query and its arguments in order: identifiers come from the
    /// view's description (quoted), values only as parameters. One row more than the limit is
    /// asked for, to know whether a next page exists.
    static func sql(_ query: ResolvedViewQuery) -> (String, [ViewValue]) {
        let view = query.view
        let column = { (index: Int) in quoted(view.columns[index].name) }
        var clauses: [String] = []
        var arguments: [ViewValue] = []
        for condition in query.conditions {
            let name = column(condition.column)
            switch condition.op {
            case .is:
                clauses.append("\(name) IS \(condition.isNull ? "" : "NOT ")NULL")
            case .in:
                clauses.append("\(name) IN (\(condition.values.map { _ in "?" }.joined(separator: ", ")))")
                arguments += condition.values
            case .like:
                clauses.append("\(name) LIKE ?")
                arguments += condition.values
            case .eq, .ne, .lt, .le, .gt, .ge:
                let symbol = switch condition.op {
                case .eq: "="
                case .ne: "<>"
                case .lt: "<"
                case .le: "<="
                case .gt: ">"
                default: ">="
                }
                clauses.append("\(name) \(symbol) ?")
                arguments += condition.values
            }
        }
        let key = "(" + view.keyColumns.map(column).joined(separator: ", ") + ")"
        let keyMarks = "(" + view.keyColumns.map { _ in "?" }.joined(separator: ", ") + ")"
        let order: String
        if let orderColumn = query.orderColumn {
            let name = column(orderColumn)
            let direction = query.descending ? "DESC" : "ASC"
            order = "\(name) \(direction), " + view.keyColumns.map { column($0) + " ASC" }.joined(separator: ", ")
            if let after = query.after {
                let value = after[0]
                let keyValues = Array(after.dropFirst())
                // SQLite sorts NULL lowest: first ascending, last descending.
                switch (value, query.descending) {
                case (.null, false):
                    clauses.append("((\(name) IS NULL AND \(key) > \(keyMarks)) OR \(name) IS NOT NULL)")
                    arguments += keyValues
                case (.null, true):
                    clauses.append("(\(name) IS NULL AND \(key) > \(keyMarks))")
                    arguments += keyValues
                case (_, false):
                    clauses.append("(\(name) > ? OR (\(name) = ? AND \(key) > \(keyMarks)))")
                    arguments += [value, value] + keyValues
                case (_, true):
                    clauses.append("(\(name) < ? OR (\(name) = ? AND \(key) > \(keyMarks)) OR \(name) IS NULL)")
                    arguments += [value, value] + keyValues
                }
            }
        } else {
            let direction = query.descending ? "DESC" : "ASC"
            order = view.keyColumns.map { column($0) + " " + direction }.joined(separator: ", ")
            if let after = query.after {
                clauses.append("\(key) \(query.descending ? "<" : ">") \(keyMarks)")
                arguments += after
            }
        }
        let selectList = view.columns.indices.map(column).joined(separator: ", ")
        var sql = "SELECT \(selectList) FROM \(quoted(view.name))"
        if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
        sql += " ORDER BY \(order) LIMIT \(query.limit + 1)"
        return (sql, arguments)
    }

    /// A view's columns with their declared types and its key, read from the table.
    private static func describe(
        view: String, pipeline: String, generation: String, checkpoints: [Checkpoint], db: Database
    ) throws -> ViewDescription {
        let rows = try Row.fetchAll(db, sql: #"SELECT "name", "type", "pk" FROM pragma_table_info(?) ORDER BY "cid""#, arguments: [view])
        guard !rows.isEmpty else {
            throw ViewStoreError(code: .noSuchView, message: "no view \(view); GET /views lists the views")
        }
        let columns = rows.map { row in ViewColumn(name: row["name"], type: columnType(declared: row["type"])) }
        let keyColumns = rows.enumerated()
            .compactMap { index, row -> (Int, Int)? in
                let position: Int = row["pk"]
                return position > 0 ? (position, index) : nil
            }
            .sorted { $0.0 < $1.0 }
            .map(\.1)
        return ViewDescription(
            name: view, pipeline: pipeline, generation: generation, columns: columns,
            keyColumns: keyColumns.isEmpty ? Array(columns.indices) : keyColumns, checkpoints: checkpoints)
    }

    /// The column type a declared SQL type stands for (see `createTableSQL`).
    private static func columnType(declared: String) -> ColumnType {
        switch declared.uppercased() {
        case "TEXT JSON": .json
        case "INTEGER BOOLEAN": .boolean
        case "INTEGER": .integer
        case "REAL": .real
        default: .text
        }
    }

    /// The live generation's identity: a 64-bit FNV-1a hash of the stored fingerprint (the
    /// pipeline's hash and its tables' root pages, which a swap changes), as 16 hex digits.
    private func generation(pipeline: String, db: Database) throws -> String {
        let tables = try String.fetchAll(
            db, sql: #"SELECT "table_name" FROM "_projector_views" WHERE "pipeline" = ?"#, arguments: [pipeline])
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in try fingerprint(key: pipeline, tables: tables, db: db).utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
