package import ProjectorModel

/// The rows one batch touched: each row as the store had it and as the batch changed it, with an
/// undo log for the event in progress, so that an event applies all or nothing.
///
/// The plan runs YAML pipelines on it, and projections written in Swift use it through the
/// runtime: both read each row at most once per batch and emit one ``ViewChange`` per changed row.
///
/// ```swift
/// var set = ChangeSet()
/// set.beginEvent()
/// let entry = try set.entry(view: 0, key: [.text("o-1")], rows: &transaction)
/// set.set(entry, [.text("o-1"), .integer(1)])
/// let changes = set.changes
/// ```
///
/// A rebuild keeps one set across the batches of its window (``Plan/run(_:rows:into:)``), so a
/// row is hashed and read once per window, not once per batch and again when the window folds it.
package struct ChangeSet {
    /// A row's identity in the batch: equal when SQLite's BINARY collation would find the same
    /// row (``ViewValue/isIdentical(to:)``).
    private struct Key: Hashable {
        var view: Int
        var key: [ViewValue]

        static func == (a: Key, b: Key) -> Bool { a.view == b.view && ViewValue.areIdentical(a.key, b.key) }

        func hash(into hasher: inout Hasher) {
            hasher.combine(view)
            ViewValue.hashIdentity(of: key, into: &hasher)
        }
    }

    private struct Entry {
        var view: Int
        var key: [ViewValue]
        var original: [ViewValue]?
        var current: [ViewValue]?
        /// Whether ``ChangeSet/estimatedBytes`` counts a row of this entry yet.
        var sized: Bool
    }

    private var index: [Key: Int] = [:]
    private var entries: [Entry] = []
    private var undo: [(entry: Int, previous: [ViewValue]?)] = []
    /// The timer firing whose handler runs now, if any: its emits take the timer's ids.
    var firing: TimerFiring?
    /// Timer queue entries that `schedule:` set into this set, in order: a batch's, or a rebuild
    /// window's over all its batches (`TimerClock` looks at them all in every batch, as they are
    /// not in the store yet; those fired or cancelled since hold no row and are passed over).
    var scheduled: [Int] = []
    /// Whether ``estimatedBytes`` is kept (a rebuild's window; a live batch does not pay for it).
    private let measuresSize: Bool
    /// With `measuresSize`, the estimated heap bytes of the keys and rows held: each entry is
    /// counted once, with the first row it holds (a row that later grows is not counted again).
    /// A rebuild bounds its window by it.
    package private(set) var estimatedBytes = 0

    /// Creates an empty set with room for `expectedRows` rows; `measuresSize` keeps ``estimatedBytes``.
    package init(expectedRows: Int = 0, measuresSize: Bool = false) {
        self.measuresSize = measuresSize
        index.reserveCapacity(expectedRows)
        entries.reserveCapacity(expectedRows)
    }

    /// The entry of a row, reading it from `rows` the first time the batch touches its key.
    /// - Throws: what `rows` throws.
    package mutating func entry(view: Int, key: [ViewValue], rows: inout some RowReader) throws -> Int {
        let lookup = Key(view: view, key: key)
        // One hash and probe: a new key is inserted with the next entry's number right away.
        let next = entries.count
        let found = Self.value(&index[lookup, default: next])
        if found < next { return found }
        let row: [ViewValue]?
        do {
            row = try rows.row(in: view, key: key)
        } catch {
            index[lookup] = nil
            throw error
        }
        if measuresSize { estimatedBytes += Self.entryOverhead + Self.size(of: key) + Self.size(of: row) }
        entries.append(Entry(view: view, key: key, original: row, current: row, sized: row != nil || !measuresSize))
        return next
    }

    /// The entry of a row whose stored state the caller read already (a key range), without
    /// reading it again; a row the batch touched before keeps its state in the batch.
    mutating func entry(view: Int, key: [ViewValue], stored: [ViewValue]?) -> Int {
        let next = entries.count
        let found = Self.value(&index[Key(view: view, key: key), default: next])
        if found < next { return found }
        if measuresSize { estimatedBytes += Self.entryOverhead + Self.size(of: key) + Self.size(of: stored) }
        entries.append(Entry(view: view, key: key, original: stored, current: stored, sized: stored != nil || !measuresSize))
        return next
    }

    @inline(__always) private static func value(_ slot: inout Int) -> Int { slot }

    /// The row's current state when the set holds its key (`.some(nil)`: absent or deleted), else
    /// nil; reads nothing.
    package func held(view: Int, key: [ViewValue]) -> [ViewValue]?? {
        guard let entry = index[Key(view: view, key: key)] else { return nil }
        return .some(entries[entry].current)
    }

    /// The row's current state in the batch (`nil`: absent or deleted).
    package func row(_ entry: Int) -> [ViewValue]? { entries[entry].current }

    /// The row as the store had it when the batch first touched it (`nil`: absent).
    func stored(_ entry: Int) -> [ViewValue]? { entries[entry].original }

    /// Sets the row's state (`nil` deletes it), remembering the previous state for ``rollbackEvent()``.
    package mutating func set(_ entry: Int, _ row: [ViewValue]?) {
        undo.append((entry, entries[entry].current))
        if !entries[entry].sized, row != nil {
            estimatedBytes += Self.size(of: row)
            entries[entry].sized = true
        }
        entries[entry].current = row
    }

    /// Starts an event: later ``rollbackEvent()`` calls undo only what follows.
    package mutating func beginEvent() { undo.removeAll(keepingCapacity: true) }

    /// Undoes every change since ``beginEvent()``.
    package mutating func rollbackEvent() {
        while let (entry, previous) = undo.popLast() { entries[entry].current = previous }
    }

    /// Whether the set holds no row.
    package var isEmpty: Bool { entries.isEmpty }

    /// Forgets every row (a rebuild's window, once written), keeping the capacity.
    package mutating func removeAll() {
        index.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        undo.removeAll(keepingCapacity: true)
        scheduled.removeAll(keepingCapacity: true)
        firing = nil
        estimatedBytes = 0
    }

    /// One change per row whose state differs from what was read, in first-touch order.
    package var changes: [ViewChange] {
        entries.compactMap { ViewValue.areIdentical($0.current, $0.original) ? nil : ViewChange(view: $0.view, key: $0.key, row: $0.current) }
    }

    // MARK: Size

    /// A dictionary slot, an entry and the key and row array headers (hash table at ~75 % load).
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
