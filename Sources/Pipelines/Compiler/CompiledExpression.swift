import ProjectorModel

/// An expression compiled against a pipeline: paths are slot reads through an access table,
/// columns are row indices, functions are resolved.
indirect enum CompiledExpression: Sendable {
    case constant(ConstantValue)
    case path(Int, JSONPath)
    case aggregate(Function, Int, JSONPath, WildcardWalk)
    case meta(MetaField)
    case column(Int, ColumnType)
    case unary(UnaryOperator, CompiledExpression)
    case binary(BinaryOperator, CompiledExpression, CompiledExpression)
    case call(Function, [CompiledExpression])
    /// Column `column` (of `type`) of the row the operation looked up in its slot `slot`.
    case lookup(slot: Int, column: Int, type: ColumnType)
}

/// Registers a `lookup(view, keys…).column` of the operation being compiled and gives its slot,
/// and the column's position and type in the looked-up view.
typealias LookupResolver = (_ view: String, _ keys: [Expr], _ column: String) -> (slot: Int, column: Int, type: ColumnType)

/// A `Sendable` literal.
enum ConstantValue: Sendable {
    case null, integer(Int64), real(Double), boolean(Bool), text(String)

    var value: Value {
        switch self {
        case .null: return .null
        case .integer(let v): return .integer(v)
        case .real(let v): return .real(v)
        case .boolean(let v): return .boolean(v)
        case .text(let s): return .text(s)
        }
    }
}

extension CompiledExpression {
    /// Whether the expression reads a column of the operation's row.
    var readsRow: Bool {
        switch self {
        case .column: return true
        case .unary(_, let operand): return operand.readsRow
        case .binary(_, let lhs, let rhs): return lhs.readsRow || rhs.readsRow
        case .call(_, let arguments): return arguments.contains { $0.readsRow }
        case .constant, .path, .aggregate, .meta, .lookup: return false
        }
    }

    /// The columns of the operation's row the expression reads, a bit per column (every bit when
    /// it reads a column past the 64th): what a row left unread must have been given to evaluate it.
    var rowColumns: UInt64 {
        switch self {
        case .column(let index, _): return index < 64 ? 1 << UInt64(index) : .max
        case .unary(_, let operand): return operand.rowColumns
        case .binary(_, let lhs, let rhs): return lhs.rowColumns | rhs.rowColumns
        case .call(_, let arguments): return arguments.reduce(0) { $0 | $1.rowColumns }
        case .constant, .path, .aggregate, .meta, .lookup: return 0
        }
    }

    /// Compiles `expr`: `paths` gives each JSON path its access-table id, `columns` are the row's,
    /// `lookups` registers each `lookup()` (the type checker allows them in operations only).
    static func compile(
        _ expr: Expr, columns: [ColumnDefinition], paths: (JSONPath) -> Int,
        lookups: LookupResolver = { _, _, _ in preconditionFailure("lookup() outside an operation passed the type checker") }
    ) -> CompiledExpression {
        switch expr.kind {
        case .null: return .constant(.null)
        case .integer(let v): return .constant(.integer(v))
        case .real(let v): return .constant(.real(v))
        case .boolean(let v): return .constant(.boolean(v))
        case .text(let s): return .constant(.text(s))
        case .path(let p): return .path(paths(p), p)
        case .meta(let m): return .meta(m)
        case .column(let name):
            let index = columns.firstIndex { $0.name == name }!
            return .column(index, columns[index].type)
        case .unary(let op, let e): return .unary(op, compile(e, columns: columns, paths: paths, lookups: lookups))
        case .binary(let op, let l, let r):
            return .binary(op, compile(l, columns: columns, paths: paths, lookups: lookups),
                           compile(r, columns: columns, paths: paths, lookups: lookups))
        case .lookup(let view, let keys, let column):
            let resolved = lookups(view, keys, column)
            return .lookup(slot: resolved.slot, column: resolved.column, type: resolved.type)
        case .call(let f, let args):
            if f == .sum || f == .count, case .path(let p) = args[0].kind {
                let star = p.components.firstIndex(of: .wildcard)!
                let prefix = JSONPath(components: Array(p.components[..<star]))
                return .aggregate(f, paths(prefix), p, WildcardWalk(p.components[star...]))
            }
            return .call(f, args.map { compile($0, columns: columns, paths: paths, lookups: lookups) })
        }
    }
}
