internal import ProjectorModel
internal import Views

/// The PostgreSQL statement of a ``ResolvedViewQuery``: the same rows in the same order as
/// `SQLiteViewStore`'s statement for the same store content.
///
/// Identifiers come only from the view's description (quoted); every value is a `$n` parameter,
/// bound as the type of the column it is compared with. Where PostgreSQL and SQLite differ, the
/// SQL says what SQLite does: NULL sorts lowest (`ASC NULLS FIRST`, `DESC NULLS LAST`; PostgreSQL
/// sorts it highest by default), `like` is `ILIKE … ESCAPE ''` (SQLite's LIKE folds ASCII case
/// only and has no escape character; on `COLLATE "C"` columns ILIKE folds ASCII only too), and
/// text compares by bytes because view text columns are `COLLATE "C"`.
enum PostgresQuerySQL {
    /// A parameter: its value and the column whose type it is bound as.
    struct Argument {
        var value: ViewValue
        var column: Int
    }

    /// The statement and its parameters in order. One row more than the limit is asked for, to
    /// know whether a next page exists.
    static func make(_ query: ResolvedViewQuery) -> (String, [Argument]) {
        let view = query.view
        let column = { (index: Int) in quoted(view.columns[index].name) }
        var clauses: [String] = []
        var arguments: [Argument] = []
        func mark(_ value: ViewValue, _ index: Int) -> String {
            arguments.append(Argument(value: value, column: index))
            return "$\(arguments.count)"
        }
        for condition in query.conditions {
            let name = column(condition.column)
            switch condition.op {
            case .is:
                clauses.append("\(name) IS \(condition.isNull ? "" : "NOT ")NULL")
            case .in:
                clauses.append("\(name) IN (\(condition.values.map { mark($0, condition.column) }.joined(separator: ", ")))")
            case .like:
                clauses.append("\(name) ILIKE \(mark(condition.values[0], condition.column)) ESCAPE ''")
            case .eq, .ne, .lt, .le, .gt, .ge:
                let symbol = switch condition.op {
                case .eq: "="
                case .ne: "<>"
                case .lt: "<"
                case .le: "<="
                case .gt: ">"
                default: ">="
                }
                clauses.append("\(name) \(symbol) \(mark(condition.values[0], condition.column))")
            }
        }
        let key = "(" + view.keyColumns.map(column).joined(separator: ", ") + ")"
        func keyMarks(_ values: ArraySlice<ViewValue>) -> String {
            "(" + zip(values, view.keyColumns).map { mark($0, $1) }.joined(separator: ", ") + ")"
        }
        let order: String
        if let orderColumn = query.orderColumn {
            let name = column(orderColumn)
            order = "\(name) \(query.descending ? "DESC NULLS LAST" : "ASC NULLS FIRST"), "
                + view.keyColumns.map { column($0) + " ASC" }.joined(separator: ", ")
            if let after = query.after {
                let value = after[0]
                let keyValues = after.dropFirst()
                // NULL sorts lowest, as in SQLite: first ascending, last descending.
                switch (value, query.descending) {
                case (.null, false):
                    clauses.append("((\(name) IS NULL AND \(key) > \(keyMarks(keyValues))) OR \(name) IS NOT NULL)")
                case (.null, true):
                    clauses.append("(\(name) IS NULL AND \(key) > \(keyMarks(keyValues)))")
                case (_, false):
                    let first = mark(value, orderColumn)
                    let second = mark(value, orderColumn)
                    clauses.append("(\(name) > \(first) OR (\(name) = \(second) AND \(key) > \(keyMarks(keyValues))))")
                case (_, true):
                    let first = mark(value, orderColumn)
                    let second = mark(value, orderColumn)
                    clauses.append("(\(name) < \(first) OR (\(name) = \(second) AND \(key) > \(keyMarks(keyValues))) OR \(name) IS NULL)")
                }
            }
        } else {
            let direction = query.descending ? "DESC" : "ASC"
            order = view.keyColumns.map { column($0) + " " + direction }.joined(separator: ", ")
            if let after = query.after {
                clauses.append("\(key) \(query.descending ? "<" : ">") \(keyMarks(after[...]))")
            }
        }
        let selectList = view.columns.indices.map(column).joined(separator: ", ")
        var sql = "SELECT \(selectList) FROM \(quoted(view.name))"
        if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
        sql += " ORDER BY \(order) LIMIT \(query.limit + 1)"
        return (sql, arguments)
    }
}
