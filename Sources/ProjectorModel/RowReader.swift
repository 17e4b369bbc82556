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

    /// Whether reading many keys in one request is much cheaper than reading them one by one (a
    /// store across a network). The batch applier then collects a batch's keys before running it
    /// and hands them to ``prefetch(_:)``. Default `false`: an in-process store reads singly.
    var prefersPrefetch: Bool { get }

    /// Reads the rows of `keys` (key lists by table index into `Plan.views`) ahead of the batch, so
    /// that ``row(in:key:)`` answers them without a request of its own. Only a hint: a key not
    /// prefetched is read singly, so correctness never depends on it.
    /// - Throws: the store's error when the read fails.
    mutating func prefetch(_ keys: [Int: [[ViewValue]]]) throws

    /// Whether the store writes a ``ViewChange`` with ``ViewChange/assignedColumns`` (columns of a
    /// row nobody read). The plan then leaves unread the rows that an upsert overwrites without
    /// reading them, which saves a store read per such row. Default `false`: every change the
    /// plan gives is a whole row.
    var writesAssignedColumns: Bool { get }

    /// The stored row of table `view` at `key` when the store knows it without a read: `.some(nil)`
    /// for a key it knows absent, `.some(row)` for a row it holds in memory; `nil` when only a
    /// read would tell. The plan reads a row it can have for free rather than leave it unread.
    /// Default `nil`.
    mutating func knownRow(in view: Int, key: [ViewValue]) -> [ViewValue]??
}

extension RowReader {
    /// Reads singly unless the store says otherwise.
    public var prefersPrefetch: Bool { false }

    /// Does nothing: the store reads each key when it is asked.
    public mutating func prefetch(_ keys: [Int: [[ViewValue]]]) throws {}

    /// Every change the plan gives the store is a whole row.
    public var writesAssignedColumns: Bool { false }

    /// Nothing is known without a read.
    public mutating func knownRow(in view: Int, key: [ViewValue]) -> [ViewValue]?? { nil }
}
