/// Reads the current rows of a plan's tables; a view store's open transaction implements it.
///
/// The plan asks for a row the first time a batch touches its key and keeps the state of that row
/// for the rest of the batch, so a store sees at most one read per key and batch.
public protocol RowReader {
    /// Returns the stored row of table `view` (an index into `Plan.views`) whose key is `key`, with
    /// every column in declaration order, or `nil` when no such row exists.
    /// - Throws: the store's error when the read fails; the plan passes it on unchanged.
    mutating func row(in view: Int, key: [ViewValue]) throws -> [ViewValue]?

    /// Returns the stored rows of table `view` whose first `keyPrefix.count` key columns equal
    /// `keyPrefix` and whose next key column is at most `upTo`, in primary-key order: one
    /// range of the primary key. Timers read the due rows of a partition this way, once per
    /// partition and batch (`Timers`).
    /// - Throws: the store's error when the read fails.
    mutating func rows(in view: Int, keyPrefix: [ViewValue], upTo: ViewValue) throws -> [[ViewValue]]
}
