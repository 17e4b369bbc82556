public import ProjectorModel

/// A ``ViewQuery`` checked against a ``ViewDescription``: every name is a declared column (by
/// index) and every value typed by its column, ready to become one SQL statement whose values are
/// all bound parameters.
///
/// Stores build their SQL from this and nothing else, so every store validates and types a query
/// the same way, and a bad name is refused before any SQL is prepared.
public struct ResolvedViewQuery: Sendable, Hashable {
    /// One condition: `column op values`.
    public struct Condition: Sendable, Hashable {
        /// Index of the column in the view's columns.
        public var column: Int
        /// The comparison; `is` tests NULL (``isNull``), `in` has several ``values``.
        public var op: ViewFilter.Operator
        /// The typed operands (empty for `is`).
        public var values: [ViewValue]
        /// For `is`: `true` for `is.null`, `false` for `is.not_null`.
        public var isNull: Bool
    }

    /// The view.
    public var view: ViewDescription
    /// The conditions, ANDed.
    public var conditions: [Condition]
    /// The order column's index; `nil` orders by the key alone.
    public var orderColumn: Int?
    /// Whether the order is descending. With an order column, the key breaks ties ascending;
    /// without one, the key itself is ordered this way.
    public var descending: Bool
    /// Where the page starts (exclusive): the order column's value (when there is an order
    /// column) followed by the key values, from the cursor; `nil` for the first page.
    public var after: [ViewValue]?
    /// The most rows to return.
    public var limit: Int

    /// The cursor that continues after `row` (a row of this query, in column order).
    public func cursor(after row: [ViewValue]) -> String {
        let values = (orderColumn.map { [row[$0]] } ?? []) + view.keyColumns.map { row[$0] }
        return ViewCursor(order: orderText, values: values).text
    }

    /// `col.asc`/`col.desc`, or `key.asc`/`key.desc` without an order column: what a cursor is bound to.
    var orderText: String {
        (orderColumn.map { view.columns[$0].name } ?? "key") + (descending ? ".desc" : ".asc")
    }
}

extension ViewQuery {
    /// The most values an `in` filter takes.
    public static let maxInValues = 100

    /// Checks every name against `view` and types every value by its column.
    /// - Throws: ``ViewStoreError`` `.invalidQuery` saying which name or value is wrong and what
    ///   is accepted; `.noSuchView` when `view` is not the view the query names.
    public func resolve(against view: ViewDescription, maxLimit: Int) throws -> ResolvedViewQuery {
        guard view.name == self.view else {
            throw ViewStoreError(code: .noSuchView, message: "no view \(self.view); GET /views lists the views")
        }
        var conditions: [ResolvedViewQuery.Condition] = []
        if let key {
            let values: [String]
            switch key {
            case .positional(let given):
                guard given.count == view.keyColumns.count else {
                    throw invalid("view \(view.name) has a key of \(view.keyColumns.count) column(s) (\(keyNames(view))); "
                        + "got \(given.count) value(s). A key value containing a comma goes in ?key.<column>=<value>")
                }
                values = given
            case .named(let given):
                for name in given.keys.sorted() where !view.keyColumns.contains(where: { view.columns[$0].name == name }) {
                    throw invalid("\(name) is not a key column of view \(view.name); its key is (\(keyNames(view)))")
                }
                values = try view.keyColumns.map { index in
                    guard let value = given[view.columns[index].name] else {
                        throw invalid("missing key.\(view.columns[index].name); view \(view.name) has the key (\(keyNames(view)))")
                    }
                    return value
                }
            }
            for (index, text) in zip(view.keyColumns, values) {
                conditions.append(.init(column: index, op: .eq, values: [try Self.typed(text, column: view.columns[index])], isNull: false))
            }
        }
        for filter in filters {
            conditions.append(try resolve(filter, view))
        }
        var orderColumn: Int?
        var descending = false
        if let order {
            guard let index = view.columnIndex(order.column) else {
                throw invalid("cannot order by \(order.column): view \(view.name) has no such column; its columns are \(columnNames(view))")
            }
            descending = order.descending
            // Ordering by the single key column is ordering by the key.
            orderColumn = view.keyColumns == [index] ? nil : index
        }
        guard limit >= 1, limit <= maxLimit else {
            throw invalid("limit must be from 1 to \(maxLimit); got \(limit)")
        }
        var resolved = ResolvedViewQuery(
            view: view, conditions: conditions, orderColumn: orderColumn, descending: descending, after: nil,
            limit: key == nil ? limit : 1)
        if let after {
            let cursor = try ViewCursor(text: after)
            guard cursor.order == resolved.orderText else {
                throw invalid("the cursor continues a page ordered by \(cursor.order), not \(resolved.orderText); "
                    + "repeat the query with the order of the page that gave it")
            }
            let columns = (orderColumn.map { [$0] } ?? []) + view.keyColumns
            guard cursor.values.count == columns.count else { throw invalid("the cursor does not fit view \(view.name); start again without after=") }
            resolved.after = try zip(cursor.values, columns).map { text, index in
                guard let text else { return .null }
                return try Self.typed(text, column: view.columns[index])
            }
        }
        return resolved
    }

    private func resolve(_ filter: ViewFilter, _ view: ViewDescription) throws -> ResolvedViewQuery.Condition {
        guard let index = view.columnIndex(filter.column) else {
            throw invalid("cannot filter on \(filter.column): view \(view.name) has no such column; its columns are \(columnNames(view))")
        }
        let column = view.columns[index]
        switch filter.op {
        case .is:
            switch filter.value {
            case "null": return .init(column: index, op: .is, values: [], isNull: true)
            case "not_null", "not.null": return .init(column: index, op: .is, values: [], isNull: false)
            default: throw invalid("\(column.name)=is.\(filter.value): is takes null or not_null")
            }
        case .in:
            let items = filter.value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard items.count <= Self.maxInValues else {
                throw invalid("\(column.name)=in. takes at most \(Self.maxInValues) values; got \(items.count)")
            }
            return .init(column: index, op: .in, values: try items.map { try Self.typed($0, column: column) }, isNull: false)
        case .like:
            guard column.type == .text else {
                throw invalid("\(column.name)=like.: like is for text columns; \(column.name) is \(column.type.rawValue)")
            }
            return .init(column: index, op: .like, values: [try Self.typed(filter.value, column: column)], isNull: false)
        case .eq, .ne, .lt, .le, .gt, .ge:
            return .init(column: index, op: filter.op, values: [try Self.typed(filter.value, column: column)], isNull: false)
        }
    }

    /// A value of `column`'s type from its text: an integer, a real, `true`/`false` (or 1/0) for
    /// booleans, the text itself for text and json columns. Text with U+0000 is refused: no view
    /// row holds it (PostgreSQL text cannot), and every store answers the same.
    static func typed(_ text: String, column: ViewColumn) throws -> ViewValue {
        switch column.type {
        case .text, .json:
            guard !text.utf8.contains(0) else { throw invalid("\(column.name): a value cannot contain U+0000 (NUL); remove it") }
            return .text(text)
        case .integer:
            guard let value = Int64(text) else { throw invalid("\(column.name) is an integer column; '\(text)' is not a 64-bit integer") }
            return .integer(value)
        case .real:
            guard let value = Double(text), value.isFinite else { throw invalid("\(column.name) is a real column; '\(text)' is not a finite number") }
            return .real(value)
        case .boolean:
            switch text {
            case "true", "1": return .integer(1)
            case "false", "0": return .integer(0)
            default: throw invalid("\(column.name) is a boolean column; '\(text)' is not true or false")
            }
        }
    }

    private func keyNames(_ view: ViewDescription) -> String {
        view.keyColumns.map { view.columns[$0].name }.joined(separator: ", ")
    }

    private func columnNames(_ view: ViewDescription) -> String {
        view.columns.map(\.name).joined(separator: ", ")
    }
}

private func invalid(_ message: String) -> ViewStoreError {
    ViewStoreError(code: .invalidQuery, message: message)
}
