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
    private struct Entry {
        var view: Int
        /// ``ViewValue/identityHash(of:seed:)`` of the key, seeded with the view.
        var hash: UInt64
        var key: [ViewValue]
        var original: [ViewValue]?
        var current: [ViewValue]?
        /// Whether ``ChangeSet/estimatedBytes`` counts a row of this entry yet.
        var sized: Bool
        /// Whether `original` is the stored row. An unread entry (a set that ``defersReads``)
        /// knows only the cells of `assigned`.
        var read: Bool
        /// For an unread entry, the columns of `current` the batch wrote (a bit per column;
        /// ``ChangeSet/allColumns`` once the whole row is known, and `current` nil: deleted); 0:
        /// nothing is known yet. 0 for a read entry.
        var assigned: UInt64
    }

    /// What ``rollbackEvent()`` restores: a whole row (`column` -1), one cell of it, or the
    /// unread state before a read (`column` -2); with the entry's `assigned` before the change.
    private struct Undo {
        var entry: Int
        var column: Int
        var row: [ViewValue]?
        var cell: ViewValue
        var assigned: UInt64
    }

    /// ``Entry/assigned`` of an unread entry whose whole row is known (written whole or deleted).
    static let allColumns = UInt64.max

    /// Open addressing over ``entries``: each slot holds an entry's number plus one in its low 32
    /// bits (0: empty) and the high 32 bits of the entry's hash above them; the count is a power of
    /// two, at most half full. A probe compares those hash bits in the slot, so passing over other
    /// keys' slots touches no entry (a window's entries outgrow the caches: each one touched is a
    /// cache miss), and a key is compared in full only on a whole-hash match.
    private var table: [UInt64]
    private var entries: [Entry] = []
    private var undo: [Undo] = []
    /// The timer firing whose handler runs now, if any: its emits take the timer's ids.
    var firing: TimerFiring?
    /// Timer queue entries that `schedule:` set into this set, in order: a batch's, or a rebuild
    /// window's over all its batches (`TimerClock` looks at them all in every batch, as they are
    /// not in the store yet; those fired or cancelled since hold no row and are passed over).
    var scheduled: [Int] = []
    /// Whether ``estimatedBytes`` is kept (a rebuild's window; a live batch does not pay for it).
    private let measuresSize: Bool
    /// Whether an upsert that needs no stored row may leave it unread (the store writes
    /// ``ViewChange/assignedColumns``); such entries are read when an operation needs more.
    let defersReads: Bool
    /// With `measuresSize`, the estimated heap bytes of the keys and rows held: each entry is
    /// counted once, with the first row it holds (a row that later grows is not counted again).
    /// A rebuild bounds its window by it.
    package private(set) var estimatedBytes = 0

    /// Creates an empty set with room for `expectedRows` rows; `measuresSize` keeps ``estimatedBytes``;
    /// `defersReads` lets upserts that need no stored row leave it unread.
    package init(expectedRows: Int = 0, measuresSize: Bool = false, defersReads: Bool = false) {
        self.measuresSize = measuresSize
        self.defersReads = defersReads
        var slots = 16
        while slots < expectedRows * 2 { slots *= 2 }
        table = Array(repeating: 0, count: slots)
        entries.reserveCapacity(expectedRows)
    }

    /// The entry of a row, reading it from `rows` the first time the batch touches its key.
    /// - Throws: what `rows` throws.
    package mutating func entry(view: Int, key: [ViewValue], rows: inout some RowReader) throws -> Int {
        try entry(view: view, taking: key, hash: nil, rows: &rows)
    }

    /// ``entry(view:key:rows:)`` for a key the caller made after ``probe(view:key:)`` found no
    /// entry for it (`hash`, the probe's: the set is not searched again), or without a probe
    /// (`hash` nil). The array is taken into a new entry, not copied.
    /// - Throws: what `rows` throws.
    /// `deferring`: the caller needs no stored row yet (``defersReads``): a new key the store
    /// cannot answer without a read is left unread, and an unread entry is returned as it is.
    mutating func entry(
        view: Int, taking key: consuming [ViewValue], hash probed: UInt64?, rows: inout some RowReader, deferring: Bool = false
    ) throws -> Int {
        let hash: UInt64
        if let probed {
            hash = probed
        } else {
            let (keyHash, found) = lookup(view, key)
            if let found {
                if !deferring && !entries[found].read { try resolve(found, rows: &rows) }
                return found
            }
            hash = keyHash
        }
        if deferring {
            guard let known = rows.knownRow(in: view, key: key) else { return insertUnread(view, hash, key) }
            return insert(view, hash, key, known)
        }
        let stored = try rows.row(in: view, key: key)
        return insert(view, hash, key, stored)
    }

    /// The hash of a key given by cells borrowed from the message, and its entry when the set
    /// holds it: a key seen before in the batch is found without making its `String`s. Reads
    /// nothing. The cells' text must be valid UTF-8 (then the hash is that of the stored key:
    /// pass it on to ``entry(view:taking:hash:rows:deferring:)``). Mutating only so that a closure holding
    /// the set (`inout`) calls it in place: a non-mutating call there copies the whole set.
    mutating func probe(view: Int, key: UnsafeBufferPointer<ViewValue.Borrowed>) -> (hash: UInt64, found: Int?) {
        let hash = ViewValue.identityHash(of: key, seed: Self.seed &+ UInt64(truncatingIfNeeded: view))
        return (hash, find(view, hash) { stored in
            stored.count == key.count && key.indices.allSatisfy { stored[$0].isIdentical(to: key[$0]) }
        })
    }

    /// The entry of a row whose stored state the caller read already (a key range), without
    /// reading it again; a row the batch touched before keeps its state in the batch.
    mutating func entry(view: Int, key: [ViewValue], stored: [ViewValue]?) -> Int {
        let (hash, found) = lookup(view, key)
        if let found {
            resolve(found, stored: stored)
            return found
        }
        return insert(view, hash, key, stored)
    }

    /// The row's current state when the set holds its key (`.some(nil)`: absent or deleted), else
    /// nil (also for a row left unread whose whole state the set does not know); reads nothing.
    package func held(view: Int, key: [ViewValue]) -> [ViewValue]?? {
        guard let entry = lookup(view, key).found else { return nil }
        guard entries[entry].read || entries[entry].assigned == Self.allColumns else { return nil }
        return .some(entries[entry].current)
    }

    /// The key of an entry.
    func key(_ entry: Int) -> [ViewValue] { entries[entry].key }

    /// One cell of an entry's key, without copying the key.
    func keyCell(_ entry: Int, _ position: Int) -> ViewValue { entries[entry].key[position] }

    /// Whether the row exists in the batch (not absent, not deleted), without copying it. For an
    /// unread entry this holds only once it is assigned (``assigned(_:)`` not 0).
    func holdsRow(_ entry: Int) -> Bool { entries[entry].current != nil }

    // MARK: Rows left unread

    /// For an entry left unread, the columns the batch wrote (``allColumns``: the whole row is
    /// known); 0 for a read entry and for an unread one nothing was written to yet.
    func assigned(_ entry: Int) -> UInt64 { entries[entry].assigned }

    /// Whether the entry holds the stored row (every entry of a set that does not defer reads).
    func isRead(_ entry: Int) -> Bool { entries[entry].read }

    /// Reads the stored row of an unread entry and lays the columns the batch wrote over it: the
    /// row as if it had been read first. Does nothing for a read entry.
    /// - Throws: what `rows` throws.
    mutating func resolve(_ entry: Int, rows: inout some RowReader) throws {
        guard !entries[entry].read else { return }
        resolve(entry, stored: try rows.row(in: entries[entry].view, key: entries[entry].key))
    }

    private mutating func resolve(_ entry: Int, stored: [ViewValue]?) {
        guard !entries[entry].read else { return }
        let assigned = entries[entry].assigned
        undo.append(Undo(entry: entry, column: -2, row: entries[entry].current, cell: .null, assigned: assigned))
        if assigned == 0 {
            entries[entry].current = stored
        } else if assigned != Self.allColumns, let stored {
            // Columns the batch did not write keep their stored values.
            var row = stored
            for column in row.indices where column < 64 && assigned & (1 << UInt64(column)) != 0 {
                row[column] = entries[entry].current![column]
            }
            entries[entry].current = row
        }
        entries[entry].original = stored
        entries[entry].read = true
        entries[entry].assigned = 0
    }

    /// Writes `columns` of an unread entry's row: `row` is the row to insert when none is stored
    /// (its other columns at their defaults); ``rollbackEvent()`` restores the previous state.
    mutating func assign(_ entry: Int, _ row: consuming [ViewValue], columns: UInt64) {
        var row: [ViewValue]? = consume row
        swap(&row, &entries[entry].current)
        undo.append(Undo(entry: entry, column: -1, row: consume row, cell: .null, assigned: entries[entry].assigned))
        entries[entry].assigned |= columns
    }

    // MARK: The index

    /// Random per process, so that keys an event's author chose cannot be made to collide in the
    /// table on purpose; entries keep first-touch order, so it changes no result.
    private static let seed = UInt64.random(in: .min ... .max)

    private static func hash(_ view: Int, _ key: UnsafeBufferPointer<ViewValue>) -> UInt64 {
        ViewValue.identityHash(of: key, seed: seed &+ UInt64(truncatingIfNeeded: view))
    }

    /// The key's hash, and its entry when the set holds it.
    private func lookup(_ view: Int, _ key: [ViewValue]) -> (hash: UInt64, found: Int?) {
        key.withUnsafeBufferPointer { key in
            let hash = Self.hash(view, key)
            return (hash, find(view, key, hash))
        }
    }

    private func find(_ view: Int, _ key: UnsafeBufferPointer<ViewValue>, _ hash: UInt64) -> Int? {
        find(view, hash) { Self.identical($0, key) }
    }

    /// The entry of `view` with `hash` whose key `matches`: the one probe of the index, whatever
    /// form the key to match is in.
    @inline(__always)
    private func find(_ view: Int, _ hash: UInt64, where matches: ([ViewValue]) -> Bool) -> Int? {
        let mask = table.count - 1
        let tag = hash & Self.tagBits
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let stored = table[slot]
            if stored == 0 { return nil }
            if stored & Self.tagBits == tag {
                let entry = Int(truncatingIfNeeded: stored & ~Self.tagBits) - 1
                if entries[entry].hash == hash && entries[entry].view == view && matches(entries[entry].key) { return entry }
            }
            slot = (slot + 1) & mask
        }
    }

    private static func identical(_ a: [ViewValue], _ b: UnsafeBufferPointer<ViewValue>) -> Bool {
        guard a.count == b.count else { return false }
        for index in b.indices where !a[index].isIdentical(to: b[index]) { return false }
        return true
    }

    /// Adds an entry the index does not hold, growing the table past half full; `key` and `row`
    /// are taken, not copied.
    private mutating func insert(_ view: Int, _ hash: UInt64, _ key: consuming [ViewValue], _ row: consuming [ViewValue]?) -> Int {
        if measuresSize { estimatedBytes += Self.entryOverhead + Self.size(of: key) + Self.size(of: row) }
        let sized = row != nil || !measuresSize
        entries.append(Entry(view: view, hash: hash, key: consume key, original: copy row, current: consume row,
                             sized: sized, read: true, assigned: 0))
        return indexLast()
    }

    /// Adds an entry for a key whose stored row is not read (yet).
    private mutating func insertUnread(_ view: Int, _ hash: UInt64, _ key: consuming [ViewValue]) -> Int {
        entries.append(Entry(view: view, hash: hash, key: consume key, original: nil, current: nil, sized: true, read: false, assigned: 0))
        return indexLast()
    }

    /// Places the entry just appended in the index (an entry passed by value to a function that
    /// appends it would be copied, retaining its arrays once more).
    private mutating func indexLast() -> Int {
        let entry = entries.count - 1
        // A slot keeps an entry's number in 32 bits; a window is bounded by its memory budget, far below.
        precondition(entry < Int(UInt32.max), "a change set holds fewer than 2^32 - 1 rows")
        if entries.count * 2 > table.count {
            table = Array(repeating: 0, count: table.count * 2)
            for index in entries.indices { place(index) }
        } else {
            place(entry)
        }
        return entry
    }

    private mutating func place(_ entry: Int) {
        let mask = table.count - 1
        let hash = entries[entry].hash
        var slot = Int(truncatingIfNeeded: hash) & mask
        while table[slot] != 0 { slot = (slot + 1) & mask }
        table[slot] = hash & Self.tagBits | UInt64(entry + 1)
    }

    /// The bits of a slot that hold the high half of its entry's hash.
    private static let tagBits: UInt64 = 0xFFFF_FFFF_0000_0000

    // MARK: Rows

    /// The row's current state in the batch (`nil`: absent or deleted).
    package func row(_ entry: Int) -> [ViewValue]? { entries[entry].current }

    /// The row as the store had it when the batch first touched it (`nil`: absent).
    func stored(_ entry: Int) -> [ViewValue]? { entries[entry].original }

    /// Sets the row's state (`nil` deletes it), remembering the previous state for ``rollbackEvent()``.
    package mutating func set(_ entry: Int, _ row: [ViewValue]?) { set(entry, taking: row) }

    /// ``set(_:_:)`` with a row the caller gives up: moved into the entry (and the replaced state
    /// into the undo log), not copied.
    mutating func set(_ entry: Int, taking row: consuming [ViewValue]?) {
        if !entries[entry].sized, row != nil {
            estimatedBytes += Self.size(of: row)
            entries[entry].sized = true
        }
        swap(&row, &entries[entry].current)
        let assigned = entries[entry].assigned
        undo.append(Undo(entry: entry, column: -1, row: consume row, cell: .null, assigned: assigned))
        // A whole row set on an unread entry (a delete, or an insert after one) is all known; an
        // unread entry is only set once it was assigned (`assigned` not 0), a read one has 0.
        if assigned != 0 { entries[entry].assigned = Self.allColumns }
    }

    /// Sets one column of a row the batch holds (``holdsRow(_:)``), in place when nothing else
    /// holds the row's storage (the first change of a row read from the store copies it once, as
    /// the stored state is kept); ``rollbackEvent()`` restores the previous value.
    @inline(__always)
    mutating func set(_ entry: Int, column: Int, _ value: consuming ViewValue) {
        // Taken and moved on, not copied: the new cell into the row, the replaced one into the log.
        swap(&value, &entries[entry].current![column])
        let assigned = entries[entry].assigned
        undo.append(Undo(entry: entry, column: column, row: nil, cell: consume value, assigned: assigned))
        // Only an unread entry has columns assigned (a read one has 0, which stays).
        if assigned != 0 && column < 64 { entries[entry].assigned = assigned | 1 << UInt64(column) }
    }

    /// Sets columns `columns` of a row the batch holds (``holdsRow(_:)``) to `values` (one a
    /// column), as ``set(_:column:_:)`` would one by one, but with the set's entries and the row
    /// each checked for uniqueness once, not once per cell. The values are moved into the row and
    /// the replaced cells into the undo log: `values` is left uninitialized.
    mutating func set(_ entry: Int, columns: [Int], moving values: UnsafeMutablePointer<ViewValue>) {
        entries.withUnsafeMutableBufferPointer { entries in
            // Taken and moved on, not copied: the new cells into the row, the replaced ones into `values`.
            entries[entry].current!.withUnsafeMutableBufferPointer { row in
                for index in columns.indices { swap(&values[index], &row[columns[index]]) }
            }
        }
        var assigned = entries[entry].assigned
        for index in columns.indices {
            let column = columns[index]
            undo.append(Undo(entry: entry, column: column, row: nil, cell: (values + index).move(), assigned: assigned))
            // Only an unread entry has columns assigned (a read one has 0, which stays).
            if assigned != 0 && column < 64 { assigned |= 1 << UInt64(column) }
        }
        entries[entry].assigned = assigned
    }

    /// A column of a row the batch holds (``holdsRow(_:)``), without copying the row.
    func cell(_ entry: Int, _ column: Int) -> ViewValue { entries[entry].current![column] }

    /// Starts an event: later ``rollbackEvent()`` calls undo only what follows.
    package mutating func beginEvent() {
        // Step by step, in code specialized for `Undo`: `removeAll(keepingCapacity:)` destroys the
        // steps through the runtime's generic `swift_arrayDestroy` (~95 instructions a step).
        while undo.popLast() != nil {}
    }

    /// Undoes every change since ``beginEvent()``.
    package mutating func rollbackEvent() {
        while let step = undo.popLast() {
            switch step.column {
            case -2:
                entries[step.entry].read = false
                entries[step.entry].original = nil
                entries[step.entry].current = step.row
            case -1:
                entries[step.entry].current = step.row
            default:
                entries[step.entry].current![step.column] = step.cell
            }
            entries[step.entry].assigned = step.assigned
        }
    }

    /// Whether the set holds no row.
    package var isEmpty: Bool { entries.isEmpty }

    /// Forgets every row (a rebuild's window, once written), keeping the capacity.
    package mutating func removeAll() {
        table.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        entries.removeAll(keepingCapacity: true)
        undo.removeAll(keepingCapacity: true)
        scheduled.removeAll(keepingCapacity: true)
        firing = nil
        estimatedBytes = 0
    }

    /// One change per row whose state differs from what was read, in first-touch order; then the
    /// rows left unread that the batch wrote some columns of, by table and written columns (so
    /// that a store writes runs of alike changes; keys are distinct, so the order changes nothing).
    package var changes: [ViewChange] {
        var changes: [ViewChange] = []
        changes.reserveCapacity(entries.count)
        var partial: [Int] = []
        for index in entries.indices {
            switch changeKind(index) {
            case .whole: appendChange(index, .whole, to: &changes)
            case .partial: partial.append(index)
            case .none: break
            }
        }
        partial.sort { (entries[$0].view, entries[$0].assigned, $0) < (entries[$1].view, entries[$1].assigned, $1) }
        for index in partial { appendChange(index, .partial, to: &changes) }
        return changes
    }

    /// ``changes`` table by table, each table's whole rows and deletions first, then its rows
    /// written in part by their columns, each group in the order of the table's primary key (by
    /// each key's first value, `ViewValue.orderPrefix`; keys alike in it in first-touch order):
    /// written so into a table larger than the page cache, each page of its key index is read
    /// and dirtied once per transaction, where first-touch order scatters the keys over the index
    /// and SQLite writes a page out and reads it back many times
    /// (`ViewTransaction.writesFasterInKeyOrder()`). The set's keys are distinct per table, so
    /// the order changes nothing of the result.
    ///
    /// The sort compares fixed-size prefixes in one array: comparing the keys themselves
    /// (`ViewValue.precedes(_:_:)`) retained each compared key's storage, scattered over the heap,
    /// and took a third of the shadow writer's time in a 20,000,000-event rebuild.
    package var changesInKeyOrder: [ViewChange] {
        struct Place {
            var view: Int
            var kind: ChangeKind
            var columns: UInt64
            var rank: UInt8
            var high: UInt64
            var low: UInt64
            var index: Int
        }
        var places: [Place] = []
        places.reserveCapacity(entries.count)
        for index in entries.indices {
            let kind = changeKind(index)
            if kind == .none { continue }
            let prefix = entries[index].key.first?.orderPrefix ?? (rank: 0, high: 0, low: 0)
            places.append(Place(view: entries[index].view, kind: kind, columns: kind == .partial ? entries[index].assigned : 0,
                                rank: prefix.rank, high: prefix.high, low: prefix.low, index: index))
        }
        places.sort { a, b in
            if a.view != b.view { return a.view < b.view }
            if a.columns != b.columns { return a.columns < b.columns }
            if a.rank != b.rank { return a.rank < b.rank }
            if a.high != b.high { return a.high < b.high }
            if a.low != b.low { return a.low < b.low }
            return a.index < b.index
        }
        var changes: [ViewChange] = []
        changes.reserveCapacity(places.count)
        for place in places { appendChange(place.index, place.kind, to: &changes) }
        return changes
    }

    /// What an entry's row became: unchanged; a whole row (read and changed, or written whole
    /// or deleted unread); or some columns of a row it did not read.
    private enum ChangeKind { case none, whole, partial }

    private func changeKind(_ index: Int) -> ChangeKind {
        if entries[index].read {
            return ViewValue.areIdentical(entries[index].current, entries[index].original) ? .none : .whole
        }
        let assigned = entries[index].assigned
        if assigned == Self.allColumns || entries[index].current == nil { return assigned != 0 ? .whole : .none }
        return .partial
    }

    private func appendChange(_ index: Int, _ kind: ChangeKind, to changes: inout [ViewChange]) {
        changes.append(ViewChange(view: entries[index].view, key: entries[index].key, row: entries[index].current,
                                  assignedColumns: kind == .partial ? entries[index].assigned : nil))
    }

    // MARK: Size

    /// Two table slots, an entry and the key and row array headers.
    private static let entryOverhead = 104

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
