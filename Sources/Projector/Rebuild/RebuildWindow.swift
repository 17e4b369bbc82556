internal import Pipelines
internal import Views
internal import ProjectorModel

/// The rows a rebuild folded in memory since its last write: the batch-local change set extended
/// across batches up to a memory budget (``RebuildOptions/memoryBudget``).
///
/// The live loop writes every batch's changes with its checkpoints; a rebuild does not need those
/// small transactions (nobody reads the shadow yet), so it evaluates batch after batch against
/// this window and writes each touched row once per window, in first-touch order, together with the
/// window's dead letters, counters and checkpoints in ONE transaction. A rebuild killed in the
/// middle of a window loses only that window: the shadow's checkpoints are those of the last
/// written window, and the next rebuild resumes from them.
///
/// - Important: Owned by the thread running the rebuild.
final class RebuildWindow {
    /// A row's identity: equal when SQLite's BINARY collation would find the same row.
    struct Key: Hashable {
        var view: Int
        var key: [ViewValue]

        static func == (a: Key, b: Key) -> Bool { a.view == b.view && ViewValue.areIdentical(a.key, b.key) }

        func hash(into hasher: inout Hasher) {
            hasher.combine(view)
            ViewValue.hashIdentity(of: key, into: &hasher)
        }
    }

    /// The budget the window's estimated size stays under before it is written.
    let budget: Int
    /// Each touched row's entry in ``rows``.
    private var index: [Key: Int] = [:]
    /// Each touched row with its state in the window (`nil`: deleted), in first-touch order.
    private var rows: [(key: Key, row: [ViewValue]?)] = []
    /// The entries of each table a key range was read from (timers), kept from the first such read on.
    private var entriesByView: [Int: [Int]] = [:]
    private(set) var deadLetters: [DeadLetter] = []
    private(set) var counters = PlanResult.Counters()
    /// The window's ignored events by type name.
    private var ignoredTypes: [String: Int] = [:]
    /// The next offset per topic partition after the window's messages.
    private var next: [Checkpoint] = []
    /// The estimated bytes the window holds.
    private(set) var bytes = 0

    /// The key columns of each table of the plan, to order key ranges read through the window.
    let keyColumns: [[Int]]

    init(budget: Int, views: [ViewDefinition]) {
        self.budget = budget
        keyColumns = views.map(\.keyColumns)
    }

    var isEmpty: Bool { rows.isEmpty && deadLetters.isEmpty && next.isEmpty }
    var isFull: Bool { bytes >= budget }

    /// The row as the window has it: `.some(nil)` when the window deleted it, `nil` when the
    /// window never touched it (then the store has it).
    func row(in view: Int, key: [ViewValue]) -> [ViewValue]?? {
        guard let entry = index[Key(view: view, key: key)] else { return nil }
        return .some(rows[entry].row)
    }

    /// The window's rows of `view` (`nil`: deleted) with their keys, in first-touch order.
    func touched(in view: Int) -> [(key: [ViewValue], row: [ViewValue]?)] {
        if entriesByView[view] == nil { entriesByView[view] = rows.indices.filter { rows[$0].key.view == view } }
        return entriesByView[view]!.map { (rows[$0].key.key, rows[$0].row) }
    }

    /// Folds one evaluated batch in.
    func add(_ evaluation: BatchApplier.Evaluation) {
        for change in evaluation.changes {
            let key = Key(view: change.view, key: change.key)
            let size = Self.size(of: change.row)
            // One hash and probe: a new key is inserted with the next entry's number right away.
            let next = rows.count
            let entry = Self.value(&index[key, default: next])
            if entry < next {
                bytes += size - Self.size(of: rows[entry].row)
                rows[entry].row = change.row
            } else {
                bytes += Self.entryOverhead + Self.size(of: change.key) + size
                if !entriesByView.isEmpty, entriesByView[change.view] != nil { entriesByView[change.view]!.append(next) }
                rows.append((key, change.row))
            }
        }
        for letter in evaluation.deadLetters {
            bytes += 256 + (letter.key?.count ?? 0) + (letter.value?.count ?? 0) + letter.error.utf8.count
        }
        deadLetters += evaluation.deadLetters
        counters.add(evaluation.outcome.counters)
        ignoredTypes.merge(evaluation.ignoredTypes, uniquingKeysWith: +)
        for checkpoint in evaluation.outcome.checkpoints {
            if let index = next.firstIndex(where: { $0.topic == checkpoint.topic && $0.partition == checkpoint.partition }) {
                next[index].nextOffset = max(next[index].nextOffset, checkpoint.nextOffset)
            } else {
                next.append(checkpoint)
            }
        }
    }

    @inline(__always) private static func value(_ slot: inout Int) -> Int { slot }

    /// Writes the window in `transaction` (rows in first-touch order, dead letters, counters,
    /// checkpoints). The caller empties the window with ``clear()`` once the transaction committed.
    ///
    /// Rows are not sorted by key: sorting cost more instructions than SQLite saved (measured in
    /// benchmarks/README.md, "Rebuild"); first-touch order follows the log, as a live batch does.
    func write(in transaction: inout any ViewTransaction) throws {
        try transaction.apply(rows.map { ViewChange(view: $0.key.view, key: $0.key.key, row: $0.row) })
        if !deadLetters.isEmpty { try transaction.addDeadLetters(deadLetters) }
        let deltas = BatchApplier.counterDeltas(counters, ignoredTypes: ignoredTypes)
        if !deltas.isEmpty { try transaction.addCounters(deltas) }
        try transaction.setCheckpoints(next)
    }

    /// Forgets the written window.
    func clear() {
        index.removeAll(keepingCapacity: true)
        rows.removeAll(keepingCapacity: true)
        entriesByView.removeAll()
        deadLetters.removeAll()
        counters = PlanResult.Counters()
        ignoredTypes = [:]
        next.removeAll()
        bytes = 0
    }

    // MARK: Size

    /// A dictionary slot with its key and row arrays (headers, hash table share at ~75 % load).
    private static let entryOverhead = 96

    /// The estimated heap bytes of a row's or key's values.
    private static func size(of values: [ViewValue]?) -> Int {
        guard let values else { return 0 }
        var bytes = 32 + 24 * values.count
        for value in values {
            // Strings of up to 15 UTF-8 bytes are stored inline.
            if case .text(let text) = value, text.utf8.count > 15 { bytes += 32 + text.utf8.count }
        }
        return bytes
    }
}

/// Reads rows through a rebuild's window: what the window touched, else the store's row.
struct WindowRows: RowReader {
    let window: RebuildWindow
    var base: any ViewTransaction

    mutating func row(in view: Int, key: [ViewValue]) throws -> [ViewValue]? {
        if let folded = window.row(in: view, key: key) { return folded }
        return try base.row(in: view, key: key)
    }

    /// The store's range with the window's rows of it laid over: what the window changed or
    /// deleted replaces the stored row, what it added joins, in primary-key order.
    mutating func rows(in view: Int, keyPrefix: [ViewValue], upTo: ViewValue) throws -> [[ViewValue]] {
        let touched = window.touched(in: view)
        guard !touched.isEmpty else { return try base.rows(in: view, keyPrefix: keyPrefix, upTo: upTo) }
        var found: [[ViewValue]] = []
        for row in try base.rows(in: view, keyPrefix: keyPrefix, upTo: upTo) where window.row(in: view, key: key(of: row, view: view)) == nil {
            found.append(row)
        }
        for (key, row) in touched {
            guard let row, ViewValue.areIdentical(Array(key.prefix(keyPrefix.count)), keyPrefix),
                  !ViewValue.precedes([upTo], [key[keyPrefix.count]]) else { continue }
            found.append(row)
        }
        return found.sorted { ViewValue.precedes(key(of: $0, view: view), key(of: $1, view: view)) }
    }

    private func key(of row: [ViewValue], view: Int) -> [ViewValue] { window.keyColumns[view].map { row[$0] } }
}
