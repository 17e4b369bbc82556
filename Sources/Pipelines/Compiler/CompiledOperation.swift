import ProjectorModel

/// One operation of a handler compiled against its view: the expressions, and the column facts
/// the hot path needs, so applying it copies no view or column definition (one counted
/// reference per operation instead of a dozen strings and arrays per event).
final class CompiledOperation: Sendable {
    /// One `set:` entry.
    struct Assignment: Sendable {
        var column: Int
        var type: ColumnType
        var expression: CompiledExpression
    }

    /// A `lookup()` the operation's expressions read: found once per event, before its key.
    struct Lookup: Sendable {
        var view: Int
        var viewName: String
        var key: [CompiledExpression]
        var keyTypes: [ColumnType]
        var keyNames: [String]
        /// `lookup(view, keys…)` as written, to tell two reads of one row apart from two rows.
        var canonical: String
    }

    let kind: OperationSpec.Kind
    /// The record of an `emit:` (then ``view`` is the outbox table and the view facts are unused).
    let emit: CompiledEmit?
    /// The timer of a `schedule:` or `cancel_schedule:` (then ``view`` is the timers table).
    let schedule: CompiledSchedule?
    /// The rows this operation looks up (empty for most operations: then nothing is read).
    let lookups: [Lookup]
    let view: Int
    let key: [CompiledExpression]
    /// ``key`` as the chain the hot path evaluates (nil: no key expression).
    let keyChain: CompiledKey?
    /// The view's type of each key column, in `key` order.
    let keyTypes: [ColumnType]
    /// The row position of each key column, in `key` order.
    let keyColumns: [Int]
    let set: [Assignment]
    /// The column of each `set:` entry, in `set` order.
    let setColumns: [Int]
    /// ``set`` as the chain the hot path evaluates (nil: no `set:`).
    let assignments: CompiledAssignments?
    let when: CompiledExpression?
    /// Whether a `set:` expression reads the row (`orders + 1`); when none does, the new row is
    /// written in place instead of into a copy.
    let setReadsRow: Bool
    /// Whether the operation writes a row without reading it: an `upsert` with no `when` whose
    /// `set:` reads no column, on a view of at most 64 columns whose `not_null` columns it sets
    /// or default to a value. Its result does not depend on the stored row, so a change set that
    /// defers reads leaves the row unread (``ViewChange/assignedColumns``).
    let writesUnread: Bool
    /// The key and `set:` columns, a bit per column: what ``writesUnread`` writes.
    let assignedColumns: UInt64
    /// The row's columns `when` and `set:` read: an unread row that was given them needs no read.
    let readsColumns: UInt64
    /// A new row before its key and `set:` columns: every column's default.
    let defaults: [ViewValue]
    /// Where each column of a new row comes from, when no `when` or `set:` expression reads the
    /// row and no column is given twice: a `set:` value (its index, ≥ 0), the default (-1) or key
    /// position `p` (-2 - p). The row is then made once from its sources instead of as a copy
    /// of ``defaults`` overwritten cell by cell (~650 instructions a row).
    let rowSources: [Int]?
    /// The view's `not_null: true` columns (empty for most views: then nothing is checked).
    let notNullColumns: [Int]
    /// What error messages name: the view, the key columns, the `set:` columns and expressions.
    let viewName: String
    let columnNames: [String]
    let keyNames: [String]
    let setNames: [String]
    let setTexts: [String]
    let whenText: String

    /// - Parameters:
    ///   - views: every table of the plan, for `lookup()`; its declared views come first.
    ///   - compile: compiles an expression against this operation's view, with a resolver for lookups.
    init(_ op: OperationSpec, view: ViewDefinition, views: [ViewDefinition],
         compile: @escaping (Expr, LookupResolver) -> CompiledExpression) {
        var lookups: [Lookup] = []
        func resolve(_ viewName: String, _ keys: [Expr], _ column: String) -> (slot: Int, column: Int, type: ColumnType) {
            let index = views.firstIndex { $0.name == viewName }!
            let target = views[index]
            let columnIndex = target.columns.firstIndex { $0.name == column }!
            let canonical = Expr(kind: .lookup(view: viewName, keys: keys, column: ""), offset: 0).canonical
            let slot = lookups.firstIndex { $0.canonical == canonical } ?? {
                lookups.append(Lookup(
                    view: index, viewName: viewName, key: keys.map { compile($0, { _, _, _ in preconditionFailure("a lookup's key holds no lookup") }) },
                    keyTypes: target.keyColumns.map { target.columns[$0].type },
                    keyNames: target.keyColumns.map { target.columns[$0].name }, canonical: canonical))
                return lookups.count - 1
            }()
            return (slot, columnIndex, target.columns[columnIndex].type)
        }
        let compile = { (expr: Expr) in compile(expr, resolve) }
        kind = op.kind
        emit = op.emit.map { CompiledEmit($0, compile: compile) }
        // The plan appends the queue table right after the timers table.
        schedule = op.schedule.map { CompiledSchedule($0, timers: op.view, queue: op.view + 1, compile: compile) }
        self.view = op.view
        key = op.key.map(compile)
        keyChain = CompiledKey.chain(key)
        keyColumns = view.keyColumns
        keyTypes = view.keyColumns.map { view.columns[$0].type }
        keyNames = view.keyColumns.map { view.columns[$0].name }
        set = op.set.map { Assignment(column: $0.column, type: view.columns[$0.column].type, expression: compile($0.expr)) }
        setNames = op.set.map { view.columns[$0.column].name }
        assignments = CompiledAssignments.chain(set, names: setNames)
        setTexts = op.set.map(\.expr.canonical)
        when = op.when.map(compile)
        setReadsRow = set.contains { $0.expression.readsRow }
        readsColumns = set.reduce(when?.rowColumns ?? 0) { $0 | $1.expression.rowColumns }
        let written = Set(set.map(\.column) + view.keyColumns)
        assignedColumns = written.reduce(0) { $1 < 64 ? $0 | 1 << UInt64($1) : $0 }
        writesUnread = op.kind == .upsert && op.emit == nil && op.schedule == nil && when == nil && !setReadsRow
            && view.columns.count <= 64
            && view.columns.indices.allSatisfy { !view.columns[$0].notNull || written.contains($0) || view.columns[$0].defaultValue != .null }
        whenText = op.when?.canonical ?? ""
        defaults = view.columns.map(\.defaultValue)
        let setColumns = set.map(\.column)
        self.setColumns = setColumns
        if when == nil && !setReadsRow && Set(setColumns).count == setColumns.count && Set(setColumns).isDisjoint(with: view.keyColumns) {
            rowSources = view.columns.indices.map { column in
                if let position = view.keyColumns.firstIndex(of: column) { return -2 - position }
                return setColumns.firstIndex(of: column) ?? -1
            }
        } else {
            rowSources = nil
        }
        notNullColumns = view.columns.indices.filter { view.columns[$0].notNull }
        viewName = view.name
        columnNames = view.columns.map(\.name)
        self.lookups = lookups
    }

    private func viewColumnName(_ column: Int) -> String { columnNames[column] }

    /// `upsert: orders` and the like, for error messages.
    private var title: String { "\(kind.rawValue): \(viewName)" }

    /// Applies the operation to the batch for one event.
    /// - Throws: `EventFailure` when an expression fails or a key is null.
    func apply(_ context: EvaluationContext, _ batch: inout ChangeSet, _ rows: inout some RowReader, _ noOps: inout Int) throws {
        guard !lookups.isEmpty else { return try run(context, &batch, &rows, &noOps) }
        var withRows = context
        withRows.lookedUp = try lookUp(context, &batch, &rows)
        try run(withRows, &batch, &rows, &noOps)
    }

    private func run(_ context: EvaluationContext, _ batch: inout ChangeSet, _ rows: inout some RowReader, _ noOps: inout Int) throws {
        if let emit {
            if let when, try !isTrue(when, context) { return }
            return try emit.apply(context, outbox: view, &batch, &rows)
        }
        if let schedule {
            if let when, try !isTrue(when, context) { return }
            return try schedule.apply(context, &batch, &rows)
        }
        // The key is built in scratch memory, its text borrowed from the message where it can be:
        // a key the batch has touched is found without a `String`; only a new key is stored.
        let entry = try withUnsafeTemporaryAllocation(of: Value.self, capacity: key.count) { values in
            var evaluated = 0
            defer { values.baseAddress!.destroy(count: evaluated) }
            let null = try keyChain?.evaluate(context, into: values.baseAddress!, &evaluated) ?? -1
            if null >= 0 { throw EventFailure(code: .nullKey, message: "key `\(keyNames[null])` of `\(title)` is null") }
            // One closure for the probe and the stored key: `batch` is captured by reference (a
            // closure only reading it would copy the whole change set).
            return try withUnsafeTemporaryAllocation(of: ViewValue.Borrowed.self, capacity: key.count) { cells in
                var borrowed = 0
                while borrowed < key.count, let cell = values[borrowed].borrowed(as: keyTypes[borrowed]) {
                    (cells.baseAddress! + borrowed).initialize(to: cell)
                    borrowed += 1
                }
                var hash: UInt64?
                if borrowed == key.count {
                    let probed = batch.probe(view: view, key: UnsafeBufferPointer(cells))
                    if let found = probed.found { return found }
                    hash = probed.hash
                }
                // A new key is made as the array the set keeps: taken into it, not copied.
                var owned: [ViewValue] = []
                owned.reserveCapacity(key.count)
                for position in key.indices {
                    owned.append(try values[position].stored(as: keyTypes[position], column: keyNames[position]))
                }
                return try batch.entry(view: view, taking: owned, hash: hash, rows: &rows, deferring: writesUnread && batch.defersReads)
            }
        }
        if !batch.isRead(entry) {
            let known = batch.assigned(entry)
            if known == 0 && writesUnread { return try insert(entry, context, &batch) }
            // A row the batch wrote exists; it needs a read only for the columns it was not given.
            if known == 0 || readsColumns & ~known != 0 { try batch.resolve(entry, rows: &rows) }
        }
        guard batch.holdsRow(entry) else {
            guard kind == .upsert else { noOps += 1; return }
            return try insert(entry, context, &batch)
        }
        // Unwrapped in place: `if let` would copy (retain) the expression.
        if when != nil, try !holds(when!, context, row: batch.row(entry)!) { return }
        if kind == .delete {
            batch.set(entry, nil)
            return
        }
        // The new values are computed against the row as it was, then set cell by cell: the row is
        // changed in place, not copied (the undo log keeps the replaced cells).
        try withUnsafeTemporaryAllocation(of: ViewValue.self, capacity: set.count) { values in
            var initialized = 0
            defer { values.baseAddress!.destroy(count: initialized) }
            try evaluateSet(context, row: setReadsRow ? batch.row(entry)! : [], into: values.baseAddress!, &initialized)
            initialized = 0
            batch.set(entry, columns: setColumns, moving: values.baseAddress!)
        }
        for column in notNullColumns where batch.cell(entry, column) == .null { try notNullFailure(column) }
    }

    /// A new row of an `upsert`: the defaults, the key and the `set:` columns. For a row left
    /// unread (``writesUnread``), the same row is what to insert when none is stored, and its
    /// key and `set:` columns what to write over a stored one.
    private func insert(_ entry: Int, _ context: EvaluationContext, _ batch: inout ChangeSet) throws {
        // Unwrapped in place: `if let` would copy (retain) the array.
        if rowSources != nil { return try insert(entry, context, &batch, from: rowSources!) }
        var row = defaults
        let key = batch.key(entry)
        for (position, column) in keyColumns.enumerated() { row[column] = key[position] }
        if let when, try !holds(when, context, row: row) { return }
        // Every value is computed before the first is set, so the row is changed in place (one
        // copy of the defaults), also when a `set:` expression reads it.
        try withUnsafeTemporaryAllocation(of: ViewValue.self, capacity: set.count) { values in
            var initialized = 0
            defer { values.baseAddress!.destroy(count: initialized) }
            try evaluateSet(context, row: setReadsRow ? row : [], into: values.baseAddress!, &initialized)
            initialized = 0
            for index in set.indices { row[set[index].column] = (values.baseAddress! + index).move() }
        }
        try keep(row, entry, &batch)
    }

    /// ``insert(_:_:_:)`` made from ``rowSources``: the `set:` values first, then the row in one
    /// initialization from them, the key and the defaults.
    private func insert(_ entry: Int, _ context: EvaluationContext, _ batch: inout ChangeSet, from sources: [Int]) throws {
        let row = try withUnsafeTemporaryAllocation(of: ViewValue.self, capacity: set.count) { values in
            var initialized = 0
            defer { values.baseAddress!.destroy(count: initialized) }
            try evaluateSet(context, row: [], into: values.baseAddress!, &initialized)
            // Each `set:` value goes to one column: moved, not copied.
            initialized = 0
            // Appended, not `init(unsafeUninitializedCapacity:)`, whose generic buffer set-up is
            // not specialized and looks up type metadata on every call.
            var row: [ViewValue] = []
            row.reserveCapacity(sources.count)
            // By index, and the key's cells read in the set: neither array is retained.
            for column in sources.indices {
                let source = sources[column]
                row.append(source >= 0 ? (values.baseAddress! + source).move() : source == -1 ? defaults[column] : batch.keyCell(entry, -2 - source))
            }
            return row
        }
        try keep(row, entry, &batch)
    }

    /// Checks a new row's `not_null` columns and keeps it in the batch: whole for a read entry,
    /// as the columns written for one left unread.
    private func keep(_ row: consuming [ViewValue], _ entry: Int, _ batch: inout ChangeSet) throws {
        for column in notNullColumns where row[column] == .null { try notNullFailure(column) }
        if batch.isRead(entry) {
            batch.set(entry, taking: consume row)
        } else {
            batch.assign(entry, consume row, columns: assignedColumns)
        }
    }

    /// Evaluates the `set:` expressions against `row` into `values`, counting those initialized.
    private func evaluateSet(_ context: EvaluationContext, row: [ViewValue], into values: UnsafeMutablePointer<ViewValue>, _ initialized: inout Int) throws {
        guard let assignments else { return }
        var failure: EventFailure?
        let failed = assignments.evaluate(context, row: row, into: values, &initialized, &failure)
        if failed >= 0, let error = failure {
            throw EventFailure(code: error.code, message: "`set.\(setNames[failed])` of `\(title)` (\(setTexts[failed])): \(error.message)")
        }
    }

    /// Whether the operation's `when` holds for `row`.
    private func holds(_ when: CompiledExpression, _ context: EvaluationContext, row: [ViewValue]) throws -> Bool {
        let result: Value
        do {
            result = try Evaluator.evaluate(when, context, row: row)
        } catch {
            throw EventFailure(code: error.code, message: "`when` of `\(title)` (\(whenText)): \(error.message)")
        }
        switch result {
        case .boolean(let value): return value
        case .null: return false
        case let other: throw EventFailure(code: .typeMismatch, message: "`when` of `\(title)` gave \(other.typeName), not a boolean")
        }
    }

    private func notNullFailure(_ column: Int) throws -> Never {
        let how = set.firstIndex { $0.column == column }.map { "`set.\(setNames[$0])` \(setTexts[$0]) gave null" }
            ?? "the new row's default is null and `set` does not give it"
        throw EventFailure(code: .notNull, message: "`\(title)`: column `\(viewColumnName(column))` is not_null but \(how)")
    }

    /// `emit: inventory-commands` or `schedule: PaymentTimeout`, for error messages.
    private var eventOperationTitle: String {
        if let schedule { return "\(kind.rawValue): \(schedule.event)" }
        return "emit: \(emit?.topic ?? "")"
    }

    /// Whether an emit's or a timer's `when` holds (it reads the event and lookups, no row).
    private func isTrue(_ when: CompiledExpression, _ context: EvaluationContext) throws -> Bool {
        let result: Value
        do {
            result = try Evaluator.evaluate(when, context, row: [])
        } catch {
            throw EventFailure(code: error.code, message: "`when` of `\(eventOperationTitle)` (\(whenText)): \(error.message)")
        }
        switch result {
        case .boolean(let value): return value
        case .null: return false
        case let other: throw EventFailure(code: .typeMismatch, message: "`when` of `\(eventOperationTitle)` gave \(other.typeName), not a boolean")
        }
    }

    /// The rows of this operation's lookups as the batch has them now: read through the change set,
    /// so an earlier event of the same batch is seen; a null key finds no row.
    private func lookUp(_ context: EvaluationContext, _ batch: inout ChangeSet, _ rows: inout some RowReader) throws -> [[ViewValue]?] {
        var found: [[ViewValue]?] = []
        found.reserveCapacity(lookups.count)
        for lookup in lookups {
            var key: [ViewValue] = []
            for position in lookup.key.indices {
                let value: Value
                do {
                    value = try Evaluator.evaluate(lookup.key[position], context, row: [])
                } catch {
                    throw EventFailure(code: error.code, message: "the key of lookup('\(lookup.viewName)') in `\(title)`: \(error.message)")
                }
                if value.isNull { break }
                key.append(try value.stored(as: lookup.keyTypes[position], column: lookup.keyNames[position]))
            }
            if key.count < lookup.key.count {
                found.append(nil)
                continue
            }
            let entry = try batch.entry(view: lookup.view, key: key, rows: &rows)
            found.append(batch.row(entry))
        }
        return found
    }
}
