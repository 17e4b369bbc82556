internal import Pipelines
internal import Views
internal import ProjectorModel

/// A full window taken out of ``RebuildWindow`` to be written to the shadow in one transaction,
/// on the rebuild's thread or on the shadow writer's (``ShadowWindowWriter``) while the next
/// window fills.
///
/// Immutable while it is written: the writer reads its rows, and the rebuild reads through them
/// (``WindowOverlayRows``) for the rows the shadow does not hold yet.
// @unchecked Sendable: handed from the rebuild's thread to the writer's and back under the
// writer's lock; nothing in it changes in between.
final class FrozenWindow: @unchecked Sendable {
    /// Each touched row as the shadow had it and as the window left it.
    private(set) var changes: ChangeSet
    let deadLetters: [DeadLetter]
    let counterDeltas: [String: Int64]
    /// The next offset per topic partition after the window's messages.
    let checkpoints: [Checkpoint]
    /// The window's estimated bytes when it was frozen.
    let bytes: Int

    init(changes: ChangeSet, deadLetters: [DeadLetter], counterDeltas: [String: Int64], checkpoints: [Checkpoint], bytes: Int) {
        self.changes = changes
        self.deadLetters = deadLetters
        self.counterDeltas = counterDeltas
        self.checkpoints = checkpoints
        self.bytes = bytes
    }

    /// Writes the window in `transaction`: rows, dead letters, counters, checkpoints. Returns the
    /// changes applied.
    ///
    /// Rows go in each table's key order where the store writes faster so
    /// (`ViewTransaction.writesFasterInKeyOrder()`: SQLite), else in first-touch order, as a
    /// live batch writes them. In key order a window of ~190,000 order_summary rows took
    /// 0.53–0.58 s against 0.68–0.98 s, and a 20,000,000-event rebuild 50 s against 79–86 s
    /// (benchmarks/README.md, "Windows written in key order").
    @discardableResult
    func write(in transaction: inout any ViewTransaction) throws -> [ViewChange] {
        let changes = transaction.writesFasterInKeyOrder() ? changes.changesInKeyOrder : changes.changes
        try transaction.apply(changes)
        if !deadLetters.isEmpty { try transaction.addDeadLetters(deadLetters) }
        if !counterDeltas.isEmpty { try transaction.addCounters(counterDeltas) }
        try transaction.setCheckpoints(checkpoints)
        return changes
    }

    /// Takes the window's change set out, emptied, for the next window to fill with its capacity
    /// kept; call once the write is done (the window reads as empty afterwards).
    func takeEmptiedChanges() -> ChangeSet {
        var emptied = ChangeSet()
        swap(&emptied, &changes)
        emptied.removeAll()
        return emptied
    }
}
