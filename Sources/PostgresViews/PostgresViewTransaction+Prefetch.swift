internal import Foundation
internal import PostgresNIO
internal import ProjectorModel
internal import Views

/// A key of a prefetched row: equal when the plan's change set would take it for the same row
/// (``ViewValue/isIdentical(to:)``), so the key the plan asks with finds the row read for it.
struct PrefetchedKey: Hashable {
    var view: Int
    var key: [ViewValue]

    static func == (a: PrefetchedKey, b: PrefetchedKey) -> Bool { a.view == b.view && ViewValue.areIdentical(a.key, b.key) }

    func hash(into hasher: inout Hasher) {
        hasher.combine(view)
        ViewValue.hashIdentity(of: key, into: &hasher)
    }
}

extension PostgresViewTransaction {
    /// Every read is a network round trip: a batch's keys are worth reading together.
    var prefersPrefetch: Bool { true }

    /// ``apply(_:)`` writes changes of some columns with an upsert of those columns: a row an
    /// upsert overwrites without reading it is neither prefetched nor read.
    var writesAssignedColumns: Bool { true }

    /// A row ``prefetch(_:)`` read, which costs no round trip.
    mutating func knownRow(in view: Int, key: [ViewValue]) -> [ViewValue]?? {
        prefetched.removeValue(forKey: PrefetchedKey(view: view, key: key))
    }

    /// Reads the rows of `keys` with one statement per table (``TableSQL/prefetch``: the keys
    /// bound as one array per key column, as deletes bind them) and keeps them until
    /// ``row(in:key:)`` asks; a key without a row is kept as absent.
    mutating func prefetch(_ keys: [Int: [[ViewValue]]]) throws {
        for view in keys.keys.sorted() {
            let table = try table(view)
            var asked: [[ViewValue]] = []
            for key in keys[view]! where !key.contains(.null) && prefetched[PrefetchedKey(view: view, key: key)] == nil {
                try checkKey(key, of: table)
                asked.append(key)
            }
            guard !asked.isEmpty else { continue }
            var bindings = PostgresBindings(capacity: table.keyColumns.count)
            for (position, column) in table.keyColumns.enumerated() {
                try bindings.append(ColumnArray(values: .column(asked, column: position, type: table.types[column])))
            }
            session.rowReads += 1
            let found = try session.query(table.prefetch, bindings, doing: "reading \(asked.count) rows of \(table.name)")
            var rows = [[ViewValue]?](repeating: nil, count: asked.count)
            for row in found {
                var cells = row.makeIterator()
                guard let position = cells.next()?.integer, asked.indices.contains(Int(position) - 1) else { continue }
                rows[Int(position) - 1] = try IteratorSequence(cells).map { try $0.viewValue(table: table.name) }
            }
            for (key, row) in zip(asked, rows) {
                prefetched[PrefetchedKey(view: view, key: key)] = .some(row)
            }
        }
    }
}

extension PostgresViewStore {
    /// How many statements batches on this store have sent to read view rows: one per key read
    /// singly, one per table prefetched. Tests count round trips with it.
    package var rowReads: Int {
        lock.withLock { session.rowReads }
    }
}
