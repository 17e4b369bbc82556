public import ProjectorModel

/// A view as a reader sees it: its declared columns, key, owning pipeline and generation, with
/// the pipeline's live checkpoints read in the same snapshot.
public struct ViewDescription: Sendable, Hashable {
    /// The view (table) name.
    public var name: String
    /// The pipeline that writes the view.
    public var pipeline: String
    /// An identity of the live generation of the pipeline's tables: it changes when a rebuild is
    /// swapped in (and only then, for a given store), so readers can tell a swap happened.
    public var generation: String
    /// The columns in declaration order with their declared types.
    public var columns: [ViewColumn]
    /// Indices into ``columns`` of the key columns, in key order.
    public var keyColumns: [Int]
    /// The pipeline's live checkpoints, ordered by topic and partition.
    public var checkpoints: [Checkpoint]

    /// Creates a description.
    public init(name: String, pipeline: String, generation: String, columns: [ViewColumn], keyColumns: [Int], checkpoints: [Checkpoint]) {
        self.name = name
        self.pipeline = pipeline
        self.generation = generation
        self.columns = columns
        self.keyColumns = keyColumns
        self.checkpoints = checkpoints
    }

    /// The index of the column named `name`, or `nil`.
    public func columnIndex(_ name: String) -> Int? {
        columns.firstIndex { $0.name == name }
    }
}

/// A column of a ``ViewDescription``.
public struct ViewColumn: Sendable, Hashable {
    /// The column name.
    public var name: String
    /// The declared type; stores that cannot tell `boolean` from `integer` or `json` from `text`
    /// (SQLite tables created before the read API) report the storage type.
    public var type: ColumnType

    /// Creates a column.
    public init(name: String, type: ColumnType) {
        self.name = name
        self.type = type
    }
}

/// A read of one view: one row by key, or a filtered, ordered page of rows after a cursor.
///
/// Every name and value is text as a client sent it; ``resolve(against:maxLimit:)`` checks the
/// names against the view's declared columns and types the values, so each store only turns a
/// ``ResolvedViewQuery`` into its own SQL with every value bound as a parameter.
public struct ViewQuery: Sendable, Hashable {
    /// The view to read.
    public var view: String
    /// One row by key: the key's values in key-column order (`k1,k2` in a path) or by column
    /// name (`?key.col=value`); `nil` for a page of rows.
    public var key: Key?
    /// Conditions every returned row meets (ANDed).
    public var filters: [ViewFilter]
    /// The order of the page; the key columns (ascending) always break ties. `nil`: by key.
    public var order: ViewOrder?
    /// The opaque cursor of the previous page (``ViewPage/nextCursor``), or `nil` for the first.
    public var after: String?
    /// The most rows to return.
    public var limit: Int

    /// How a single-row read names its key.
    public enum Key: Sendable, Hashable {
        /// The key values in key-column order.
        case positional([String])
        /// The key values by key-column name.
        case named([String: String])
    }

    /// Creates a query.
    public init(view: String, key: Key? = nil, filters: [ViewFilter] = [], order: ViewOrder? = nil, after: String? = nil, limit: Int = 50) {
        self.view = view
        self.key = key
        self.filters = filters
        self.order = order
        self.after = after
        self.limit = limit
    }
}

/// A condition on one column: `column=op.value` in a URL.
public struct ViewFilter: Sendable, Hashable {
    /// The comparison.
    public enum Operator: String, Sendable, Hashable, CaseIterable {
        /// Equal.
        case eq
        /// Not equal (a NULL cell never matches).
        case ne
        /// Less than.
        case lt
        /// Less than or equal.
        case le
        /// Greater than.
        case gt
        /// Greater than or equal.
        case ge
        /// One of a comma-separated list.
        case `in`
        /// `is.null` (and `is.not_null`) test for NULL.
        case `is`
        /// SQL `LIKE` on text columns (`%` any run, `_` one character; case-sensitive for non-ASCII).
        case like
    }

    /// The column name.
    public var column: String
    /// The comparison.
    public var op: Operator
    /// The operand as sent: one value, a comma-separated list for `in`, `null`/`not_null` for `is`.
    public var value: String

    /// Creates a filter.
    public init(column: String, op: Operator, value: String) {
        self.column = column
        self.op = op
        self.value = value
    }
}

/// The order of a page: one column, ascending or descending.
public struct ViewOrder: Sendable, Hashable {
    /// The column name.
    public var column: String
    /// Descending (`col.desc`) instead of ascending (`col.asc`, the default).
    public var descending: Bool

    /// Creates an order.
    public init(column: String, descending: Bool = false) {
        self.column = column
        self.descending = descending
    }
}

/// What a query read, in one snapshot of the store.
public struct ViewPage: Sendable, Hashable {
    /// The view, with the checkpoints of the snapshot the rows were read in.
    public var view: ViewDescription
    /// The rows, each in column order.
    public var rows: [[ViewValue]]
    /// The cursor of the next page, or `nil` when this page is the last.
    public var nextCursor: String?

    /// Creates a page.
    public init(view: ViewDescription, rows: [[ViewValue]], nextCursor: String?) {
        self.view = view
        self.rows = rows
        self.nextCursor = nextCursor
    }
}
