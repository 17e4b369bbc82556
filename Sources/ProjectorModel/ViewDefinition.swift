/// The declared type of a view column.
public enum ColumnType: String, Sendable, Hashable, CaseIterable {
    /// UTF-8 text, stored as `TEXT`.
    case text
    /// A 64-bit integer, stored as `INTEGER`.
    case integer
    /// A double, stored as `REAL`.
    case real
    /// A Boolean, stored as `INTEGER` 0 or 1.
    case boolean
    /// Any JSON value, stored as its JSON text.
    case json
}

/// One column of a view.
public struct ColumnDefinition: Sendable, Hashable {
    /// The column name; matches `[a-z_][a-z0-9_]*` once validated.
    public var name: String
    /// The declared type.
    public var type: ColumnType
    /// The value a new row takes when no operation sets this column.
    public var defaultValue: ViewValue
    /// `not_null: true`: a row holding null here is an event error, so that a missing field
    /// fails its event instead of silently nulling an aggregate. The table itself has no
    /// constraint: the plan checks before anything is written.
    public var notNull: Bool

    /// Creates a column definition.
    public init(name: String, type: ColumnType, defaultValue: ViewValue, notNull: Bool = false) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.notNull = notNull
    }
}

/// A table the plan reads and writes: a declared view, or an internal table of the pipeline
/// (such as its dedupe table, whose name starts with `_projector_`).
public struct ViewDefinition: Sendable, Hashable {
    /// The table name, a validated SQL identifier (always quoted by stores).
    public var name: String
    /// The columns in declaration order; rows are arrays in this order.
    public var columns: [ColumnDefinition]
    /// Indices into `columns` of the primary-key columns, in key order.
    public var keyColumns: [Int]

    /// Creates a view definition.
    public init(name: String, columns: [ColumnDefinition], keyColumns: [Int]) {
        self.name = name
        self.columns = columns
        self.keyColumns = keyColumns
    }
}
