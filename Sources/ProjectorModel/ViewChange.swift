/// The final state of one row after a batch: the plan coalesces every operation of the batch on a
/// key into one change, whose effect equals applying those operations in order.
public struct ViewChange: Sendable, Hashable {
    /// Index of the table in `Plan.views`.
    public var view: Int
    /// The key values, in `ViewDefinition.keyColumns` order.
    public var key: [ViewValue]
    /// The whole row (every column, declaration order), or `nil` when the row is deleted.
    public var row: [ViewValue]?

    /// Creates a change.
    public init(view: Int, key: [ViewValue], row: [ViewValue]?) {
        self.view = view
        self.key = key
        self.row = row
    }
}
