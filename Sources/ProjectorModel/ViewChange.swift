/// The final state of one row after a batch: the plan coalesces every operation of the batch on a
/// key into one change, whose effect equals applying those operations in order.
public struct ViewChange: Sendable, Hashable {
    /// Index of the table in `Plan.views`.
    public var view: Int
    /// The key values, in `ViewDefinition.keyColumns` order.
    public var key: [ViewValue]
    /// The whole row (every column, declaration order), or `nil` when the row is deleted.
    public var row: [ViewValue]?
    /// Nil: ``row`` is the whole row. Otherwise the batch wrote these columns (a bit per column,
    /// `1 << index`) of a row it did not read: a stored row keeps its other columns, and ``row``
    /// is the row to insert when none is stored (its other columns at their defaults).
    ///
    /// An upsert whose `set:` reads no column of the row does not need the stored row; a store
    /// that writes such a change in one statement (`ON CONFLICT … DO UPDATE SET` the columns
    /// given) saves a read per row (`RowReader/writesAssignedColumns`).
    public var assignedColumns: UInt64?

    /// Creates a change; `assignedColumns` as the property says.
    public init(view: Int, key: [ViewValue], row: [ViewValue]?, assignedColumns: UInt64? = nil) {
        self.view = view
        self.key = key
        self.row = row
        self.assignedColumns = assignedColumns
    }
}
