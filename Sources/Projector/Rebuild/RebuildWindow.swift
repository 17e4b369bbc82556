internal import Foundation
internal import Pipelines
internal import Views
internal import ProjectorModel

/// The rows a rebuild folded in memory since its last write: the batch-local change set extended
/// across batches up to a memory budget (``RebuildOptions/memoryBudget``).
///
/// The live loop writes every batch's changes with its checkpoints; a rebuild does not need those
/// small transactions (nobody reads the shadow yet), so it evaluates batch after batch against
/// this window and writes each touched row once per window, in key order, together with the
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
    /// Each touched row's state in the window (`nil`: deleted).
    private(set) var rows: [Key: [ViewValue]?] = [:]
    private(set) var deadLetters: [DeadLetter] = []
    private(set) var counters = PlanResult.Counters()
    /// The next offset per topic partition after the window's messages.
    private var next: [Checkpoint] = []
    /// The estimated bytes the window holds.
    private(set) var bytes = 0

    init(budget: Int) {
        self.budget = budget
    }

    var isEmpty: Bool { rows.isEmpty && deadLetters.isEmpty && next.isEmpty }
    var isFull: Bool { bytes >= budget }

    /// The row as the window has it: `.some(nil)` when the window deleted it, `nil` when the
    /// window never touched it (then the store has it).
    func row(in view: Int, key: [ViewValue]) -> [ViewValue]?? {
        rows[Key(view: view, key: key)]
    }

    /// Folds one evaluated batch in.
    func add(_ evaluation: BatchApplier.Evaluation) {
        for change in evaluation.changes {
            let key = Key(view: change.view, key: change.key)
            let size = Self.size(of: change.row)
            if let old = rows.updateValue(change.row, forKey: key) {
                bytes += size - Self.size(of: old)
            } else {
                bytes += Self.entryOverhead + Self.size(of: change.key) + size
            }
        }
        for letter in evaluation.deadLetters {
            bytes += 256 + (letter.key?.count ?? 0) + (letter.value?.count ?? 0) + letter.error.utf8.count
        }
        deadLetters += evaluation.deadLetters
        counters.add(evaluation.outcome.counters)
        for checkpoint in evaluation.outcome.checkpoints {
            if let index = next.firstIndex(where: { $0.topic == checkpoint.topic && $0.partition == checkpoint.partition }) {
                next[index].nextOffset = max(next[index].nextOffset, checkpoint.nextOffset)
            } else {
                next.append(checkpoint)
            }
        }
    }

    /// Writes the window in `transaction` (rows in key order, dead letters, counters, checkpoints).
    /// The caller empties the window with ``clear()`` once the transaction committed.
    func write(in transaction: inout any ViewTransaction) throws {
        let keys = rows.keys.sorted(by: Self.precedes)
        try transaction.apply(keys.map { ViewChange(view: $0.view, key: $0.key, row: rows[$0]!) })
        if !deadLetters.isEmpty { try transaction.addDeadLetters(deadLetters) }
        let deltas = BatchApplier.counterDeltas(counters)
        if !deltas.isEmpty { try transaction.addCounters(deltas) }
        try transaction.setCheckpoints(next)
    }

    /// Forgets the written window.
    func clear() {
        rows.removeAll(keepingCapacity: true)
        deadLetters.removeAll()
        counters = PlanResult.Counters()
        next.removeAll()
        bytes = 0
    }

    // MARK: Order and size

    /// Key order as SQLite sorts primary keys (BINARY collation): view, then key column by column,
    /// NULL before numbers before text, numbers by value, text by its UTF-8 bytes.
    static func precedes(_ a: Key, _ b: Key) -> Bool {
        if a.view != b.view { return a.view < b.view }
        for (x, y) in zip(a.key, b.key) {
            let order = compare(x, y)
            if order != 0 { return order < 0 }
        }
        return a.key.count < b.key.count
    }

    private static func compare(_ a: ViewValue, _ b: ViewValue) -> Int {
        switch (a, b) {
        case (.null, .null): return 0
        case (.null, _): return -1
        case (_, .null): return 1
        case (.integer(let x), .integer(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.integer(let x), .real(let y)): return Double(x) < y ? -1 : (Double(x) > y ? 1 : 0)
        case (.real(let x), .integer(let y)): return x < Double(y) ? -1 : (x > Double(y) ? 1 : 0)
        case (.real(let x), .real(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.text, .integer), (.text, .real): return 1
        case (.integer, .text), (.real, .text): return -1
        case (.text(var x), .text(var y)):
            return x.withUTF8 { xs in
                y.withUTF8 { ys in
                    let common = min(xs.count, ys.count)
                    let order = common == 0 ? 0 : Int(memcmp(xs.baseAddress!, ys.baseAddress!, common))
                    return order != 0 ? order : xs.count - ys.count
                }
            }
        }
    }

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
}
