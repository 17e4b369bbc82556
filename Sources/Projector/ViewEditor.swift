internal import Pipelines
public import ProjectorModel

/// How a ``CodeProjection`` reads and changes view rows within a batch: every read goes through the
/// batch's `ChangeSet` (one store read per key and batch), every change becomes a `ViewChange`.
public struct ViewEditor {
    /// One row of a view, read and written by column name.
    public struct Row {
        /// The view's columns.
        public let columns: [ColumnDefinition]
        /// The values in column order.
        public var values: [ViewValue]

        /// The value of `column`; reading an unknown column is a programmer error.
        public subscript(column: String) -> ViewValue {
            get { values[index(column)] }
            set { values[index(column)] = newValue }
        }

        private func index(_ column: String) -> Int {
            guard let index = columns.firstIndex(where: { $0.name == column }) else {
                preconditionFailure("no column \(column) in this view; columns: \(columns.map(\.name))")
            }
            return index
        }
    }

    private let views: [ViewDefinition]
    private var reader: any RowReader
    var changeSet: ChangeSet

    init(views: [ViewDefinition], reader: any RowReader, expectedRows: Int) {
        self.views = views
        self.reader = reader
        self.changeSet = ChangeSet(expectedRows: expectedRows)
    }

    /// The current row of `view` with `key` (key values in key-column order), or nil.
    /// - Throws: ``ProjectorError`` for an unknown view, or the store's error.
    public mutating func row(_ view: String, key: [ViewValue]) throws -> Row? {
        let (index, entry) = try locate(view, key)
        return changeSet.row(entry).map { Row(columns: views[index].columns, values: $0) }
    }

    /// Changes the row with `key`, creating it from the column defaults first when absent.
    public mutating func upsert(_ view: String, key: [ViewValue], _ change: (inout Row) throws -> Void) throws {
        let (index, entry) = try locate(view, key)
        let definition = views[index]
        var row = Row(columns: definition.columns, values: changeSet.row(entry) ?? definition.columns.map(\.defaultValue))
        for (position, column) in definition.keyColumns.enumerated() { row.values[column] = key[position] }
        try change(&row)
        changeSet.set(entry, row.values)
    }

    /// Changes the row with `key` when it exists; returns whether it did.
    @discardableResult
    public mutating func update(_ view: String, key: [ViewValue], _ change: (inout Row) throws -> Void) throws -> Bool {
        let (index, entry) = try locate(view, key)
        guard let values = changeSet.row(entry) else { return false }
        var row = Row(columns: views[index].columns, values: values)
        try change(&row)
        changeSet.set(entry, row.values)
        return true
    }

    /// Deletes the row with `key` (nothing when absent).
    public mutating func delete(_ view: String, key: [ViewValue]) throws {
        let (_, entry) = try locate(view, key)
        changeSet.set(entry, nil)
    }

    private mutating func locate(_ view: String, _ key: [ViewValue]) throws -> (Int, Int) {
        guard let index = views.firstIndex(where: { $0.name == view }) else {
            throw ProjectorError(code: .usage, message: "the projection has no view \(view); views: \(views.map(\.name))")
        }
        guard key.count == views[index].keyColumns.count, !key.contains(.null) else {
            throw ProjectorError(code: .eventFailed, message: "a key of \(view) needs \(views[index].keyColumns.count) non-null values, got \(key)")
        }
        do {
            return (index, try changeSet.entry(view: index, key: key, rows: &reader))
        } catch {
            throw StoreFailure(underlying: error)
        }
    }
}

/// A store read that failed inside a code projection: the worker's failure, not the event's.
struct StoreFailure: Error {
    var underlying: any Error
}
