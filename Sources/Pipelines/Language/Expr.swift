/// Message metadata readable in expressions.
enum MetaField: String, Hashable, Sendable, CaseIterable {
    case key, topic, partition, offset, timestamp
}

/// A prefix operator; the raw value is how it is written.
enum UnaryOperator: String, Hashable, Sendable {
    case negate = "-"
    case not = "not"
}

/// An infix operator; the raw value is how it is written.
enum BinaryOperator: String, Hashable, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"
    case concat = "||"
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case and = "and", or = "or"
}

/// The built-in functions.
enum Function: String, Hashable, Sendable, CaseIterable {
    case coalesce, len, lower, upper, concat, min, max, abs, round, sum, count
    /// `if(condition, then, else)`: `then` when the condition is true, else (false or null) `else`.
    case `if`

    /// Allowed argument counts.
    var arity: ClosedRange<Int> {
        switch self {
        case .coalesce, .concat: return 1...Int.max
        case .len, .lower, .upper, .abs, .sum, .count: return 1...1
        case .min, .max: return 2...Int.max
        case .round: return 1...2
        case .if: return 3...3
        }
    }
}

/// A parsed expression with the offset (in Unicode scalars) of each node in its source text.
struct Expr: Hashable, Sendable {
    indirect enum Kind: Hashable, Sendable {
        case null
        case integer(Int64)
        case real(Double)
        case boolean(Bool)
        case text(String)
        case path(JSONPath)
        case meta(MetaField)
        case column(String)
        case unary(UnaryOperator, Expr)
        case binary(BinaryOperator, Expr, Expr)
        case call(Function, [Expr])
        /// `lookup('view', key…).column`: a column of another view's row, read in the batch.
        case lookup(view: String, keys: [Expr], column: String)
    }

    var kind: Kind
    var offset: Int

    /// A canonical text: whitespace-free of the author's layout, fully parenthesised; used by the
    /// pipeline hash so that formatting never changes it.
    var canonical: String {
        switch kind {
        case .null: return "null"
        case .integer(let v): return String(v)
        case .real(let v): return "\(v)"
        case .boolean(let v): return v ? "true" : "false"
        case .text(let s): return "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''") + "'"
        case .path(let p): return p.description
        case .meta(let m): return "$" + m.rawValue
        case .column(let c): return c
        case .unary(let op, let e): return "(\(op.rawValue) \(e.canonical))"
        case .binary(let op, let l, let r): return "(\(l.canonical) \(op.rawValue) \(r.canonical))"
        case .call(let f, let args): return f.rawValue + "(" + args.map(\.canonical).joined(separator: ",") + ")"
        case .lookup(let view, let keys, let column):
            return "lookup(" + ([Expr(kind: .text(view), offset: 0)] + keys).map(\.canonical).joined(separator: ",") + ")." + column
        }
    }

    /// Calls `body` on this node and every node below it.
    func visit(_ body: (Expr) -> Void) {
        body(self)
        switch kind {
        case .unary(_, let e): e.visit(body)
        case .binary(_, let l, let r): l.visit(body); r.visit(body)
        case .call(_, let args): for a in args { a.visit(body) }
        case .lookup(_, let keys, _): for k in keys { k.visit(body) }
        default: break
        }
    }

    /// Whether the expression reads neither the event, the message nor a row.
    var isConstant: Bool {
        var constant = true
        visit { node in
            switch node.kind {
            case .path, .meta, .column, .lookup: constant = false
            default: break
            }
        }
        return constant
    }
}
