internal import ProjectorModel

/// The rows a worker's connection last read or wrote in one live table, by key, so that a batch
/// touching a row an earlier batch wrote does not query SQLite for it again.
///
/// A live worker reads every row its batch touches before writing it back (a fold such as
/// `orders + 1` needs the stored value). Most of those rows are its own recent writes: a
/// customer's running totals, an order shipped a few batches after it was created. Each such
/// read is a B-tree seek plus a statement step and reset, ~12,000 instructions here, where the
/// hand-written C projection folds in SQL (`ON CONFLICT … DO UPDATE SET orders = orders + 1`)
/// and reads nothing. The cache answers those reads from memory.
///
/// It holds what this connection read and wrote, so it equals the table while no other
/// connection commits: the store drops it when SQLite's `data_version` changes, and when a
/// transaction of its own rolls back.
/// Memory is bounded by ``capacityBytes`` in two generations: when the newer fills up, the older
/// is dropped and the newer takes its place, so recently used rows stay (a cheap approximation of
/// least-recently-used with no per-read bookkeeping).
struct RowCache {
    /// A row's state: its cells, or nil when the row does not exist.
    typealias Entry = [ViewValue]?

    /// Bytes (estimated) both generations may hold together.
    let capacityBytes: Int
    private var newer: [Key: Entry] = [:]
    private var older: [Key: Entry] = [:]
    private var newerBytes = 0
    /// SQLite's `data_version` the cached rows were read or written under.
    private var version: Int64?

    init(capacityBytes: Int) {
        self.capacityBytes = capacityBytes
    }

    /// Starts a transaction that sees `dataVersion`: a change means another connection committed,
    /// and any row may have changed under the cache.
    mutating func begin(dataVersion: Int64) {
        guard dataVersion != version else { return }
        version = dataVersion
        forget()
    }

    /// The open transaction rolled back: what it read or wrote may not be the table's state.
    mutating func rollBack() {
        version = nil
        forget()
    }

    /// The state of the row at `key` as this connection last read or wrote it, if cached (the
    /// outer optional: whether it is).
    func lookup(_ cells: [ViewValue]) -> Entry? {
        guard !newer.isEmpty || !older.isEmpty else { return nil }
        let key = Key(cells)
        if let entry = newer[key] { return .some(entry) }
        if let entry = older[key] { return .some(entry) }
        return nil
    }

    /// Records what the open transaction read from or wrote to the row at `key`. Recorded at
    /// once rather than at commit: a transaction that does not commit drops the whole cache
    /// (``rollBack()``), which is rare, and a commit then costs nothing.
    mutating func record(_ cells: [ViewValue], _ entry: Entry) {
        guard capacityBytes > 0 else { return }
        let key = Key(cells)
        // SQLite stores a NaN as NULL: such a row would read back other than it was written.
        if let entry, entry.contains(where: { if case .real(let value) = $0 { value.isNaN } else { false } }) {
            newer[key] = nil
            older[key] = nil
            return
        }
        let bytes = Self.bytes(cells) + (entry.map(Self.bytes) ?? 0)
        if newerBytes + bytes > capacityBytes / 2 {
            older = newer
            newer.removeAll(keepingCapacity: true)
            newerBytes = 0
        }
        // A stale copy in `older` stays until it is dropped: `lookup` asks `newer` first.
        if newer.updateValue(entry, forKey: key) == nil { newerBytes += bytes }
    }

    /// Drops what the cache holds of the row at `key` (written in part: its state is not known).
    mutating func forget(_ cells: [ViewValue]) {
        guard !newer.isEmpty || !older.isEmpty else { return }
        let key = Key(cells)
        newer[key] = nil
        older[key] = nil
    }

    private mutating func forget() {
        newer.removeAll()
        older.removeAll()
        newerBytes = 0
    }

    /// An estimate of the memory a cached key or row takes: its cells plus the text they hold.
    private static func bytes(_ cells: [ViewValue]) -> Int {
        var total = 32 + cells.count * MemoryLayout<ViewValue>.stride
        for cell in cells {
            switch cell {
            case .text(let text): total += text.utf8.count
            default: break
            }
        }
        return total
    }

    /// A key with its identity hash computed once: SipHash over a key's text costs several
    /// hundred instructions a probe, the identity hash about a hundred.
    private struct Key: Hashable {
        let hash: UInt64
        let cells: [ViewValue]

        init(_ cells: [ViewValue]) {
            self.cells = cells
            hash = ViewValue.identityHash(of: cells)
        }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }

        static func == (lhs: Key, rhs: Key) -> Bool { lhs.hash == rhs.hash && lhs.cells == rhs.cells }
    }
}
