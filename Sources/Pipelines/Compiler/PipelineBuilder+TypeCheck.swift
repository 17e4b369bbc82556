import Foundation
import ProjectorModel
import Yams

/// Expressions: parsing each one at its YAML position and inferring its `StaticType`, so that
/// expressions that can never work are rejected before any event runs.
extension PipelineBuilder {
    /// What an expression may read where it is written: each denial carries the reason the
    /// message gives.
    struct ReadPermissions {
        /// The row's columns, when the expression runs against a row.
        var columns: [ColumnDefinition]?
        /// Why row columns cannot be read here, or nil when they can.
        var rowDenied: String?
        /// Why event paths cannot be read here, or nil when they can.
        var pathsDenied: String?
        /// Whether the expression must read nothing at all (a default).
        var constantOnly = false
        /// The pipeline's declared views `lookup()` may read; empty where it may not.
        var lookupViews: [ViewDefinition] = []
    }

    /// Parses and checks the expression at `node`; nil once its problems are reported.
    mutating func expression(_ node: Node, what: String, reads: ReadPermissions) -> (Expr, StaticType)? {
        guard let source = scalar(node, what: what) else { return nil }
        let expr: Expr
        do {
            expr = try ExpressionParser.parse(source)
        } catch {
            let (line, column) = position(in: node, offset: error.offset)
            report(.invalidExpression, "invalid expression in \(what): \(error.message)", line: line, column: column)
            return nil
        }
        let before = problems.count
        let type = check(expr, in: node, reads: reads, what: what)
        if reads.constantOnly, !expr.isConstant, problems.count == before {
            report(.invalidExpression, "\(what) must be a constant (a number, a 'string', true, false or null)", at: node)
        }
        return problems.count == before ? (expr, type) : nil
    }

    private mutating func check(_ expr: Expr, in node: Node, reads: ReadPermissions, what: String, aggregateArgument: Bool = false) -> StaticType {
        func fail(_ code: PipelineError.Code, _ message: String, _ at: Expr) {
            let (line, column) = position(in: node, offset: at.offset)
            report(code, message, line: line, column: column)
        }
        switch expr.kind {
        case .null: return .null
        case .integer: return .integer
        case .real: return .real
        case .boolean: return .boolean
        case .text: return .text
        case .path(let path):
            if let reason = reads.pathsDenied { fail(.invalidPath, "\(what) cannot read `\(path)`: \(reason)", expr); return .unknown }
            if path.hasWildcard && !aggregateArgument {
                fail(.invalidPath, "`\(path)` has `[*]`, which is only allowed directly inside sum() or count()", expr)
            }
            return .unknown
        case .meta(let field):
            switch field {
            case .key, .topic: return .text
            case .partition, .offset, .timestamp: return .integer
            }
        case .column(let name):
            if let reason = reads.rowDenied {
                fail(.keyReadsRow, "\(what) cannot read the row column `\(name)`: \(reason)", expr)
                return .unknown
            }
            guard let columns = reads.columns else { return .unknown }
            guard let column = columns.first(where: { $0.name == name }) else {
                if case .scalar(let scalar) = node, scalar.style == .singleQuoted || scalar.style == .doubleQuoted,
                   scalar.string.trimmingCharacters(in: .whitespaces) == name {
                    // YAML took the quotes: `status: 'open'` is the expression `open`, a column.
                    fail(.unknownColumn, "unknown column `\(name)`: YAML read the quotes of `\(scalar.style == .singleQuoted ? "'\(name)'" : "\"\(name)\"")` "
                        + "as its own; for the text '\(name)' write \"'\(name)'\" (a string in an expression keeps its single quotes)", expr)
                    return .unknown
                }
                let hint = didYouMean(name, among: columns.map(\.name)).map { "; did you mean `\($0)`?" } ?? ""
                fail(.unknownColumn, "unknown column `\(name)`\(hint) (event fields are read as `$.\(name)`)", expr)
                return .unknown
            }
            return StaticType(column.type)
        case .unary(let op, let operand):
            let t = check(operand, in: node, reads: reads, what: what)
            switch op {
            case .negate:
                if t == .text || t == .boolean { fail(.typeMismatch, "`-` needs a number, not \(t.name)", expr) }
                return t == .null ? .null : (t.isNumeric ? t : .unknown)
            case .not:
                if t.isNumeric || t == .text { fail(.typeMismatch, "`not` needs a boolean, not \(t.name)", expr) }
                return .boolean
            }
        case .binary(let op, let l, let r):
            let lt = check(l, in: node, reads: reads, what: what)
            let rt = check(r, in: node, reads: reads, what: what)
            switch op {
            case .add, .subtract, .multiply, .divide, .remainder:
                for t in [lt, rt] where t == .text || t == .boolean {
                    fail(.typeMismatch, "`\(op.rawValue)` needs numbers, not \(t.name)\(t == .text && op == .add ? " (concatenation is `||`)" : "")", expr)
                    return .unknown
                }
                if op == .remainder && (lt == .real || rt == .real) {
                    fail(.typeMismatch, "`%` needs integers, not real", expr)
                }
                if op == .divide { return .real }
                if lt == .integer && rt == .integer { return .integer }
                if lt.isNumeric && rt.isNumeric { return .real }
                return .unknown
            case .concat: return .text
            case .and, .or:
                for t in [lt, rt] where t.isNumeric || t == .text {
                    fail(.typeMismatch, "`\(op.rawValue)` needs booleans, not \(t.name)", expr)
                }
                return .boolean
            default:
                if lt == .null || rt == .null {
                    fail(.typeMismatch, "a comparison with null is always null (never true); use coalesce(x, ...) to test for a missing value", expr)
                    return .boolean
                }
                let known: Set<StaticType> = [.integer, .real, .text, .boolean]
                if known.contains(lt), known.contains(rt), !(lt.isNumeric && rt.isNumeric), lt != rt {
                    fail(.typeMismatch, "cannot compare \(lt.name) with \(rt.name)", expr)
                }
                return .boolean
            }
        case .lookup(let viewName, let keys, let columnName):
            guard !reads.lookupViews.isEmpty else {
                fail(.invalidExpression, "\(what) cannot use lookup(): other views are read only in a handler's operations", expr)
                return .unknown
            }
            guard let view = reads.lookupViews.first(where: { $0.name == viewName }) else {
                let hint = didYouMean(viewName, among: reads.lookupViews.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
                fail(.unknownView, "lookup() names no view '\(viewName)'\(hint)", expr)
                return .unknown
            }
            if keys.count != view.keyColumns.count {
                let names = view.keyColumns.map { view.columns[$0].name }
                fail(.missingKeyColumn, "lookup('\(viewName)', …) takes \(names.count) key value\(names.count == 1 ? "" : "s") (\(names.joined(separator: ", "))), not \(keys.count)", expr)
            }
            var keyReads = reads
            keyReads.rowDenied = "the key of a lookup reads the event and the message only"
            keyReads.lookupViews = []
            for (position, key) in keys.enumerated() {
                let type = check(key, in: node, reads: keyReads, what: "the key of lookup('\(viewName)')")
                if position < view.keyColumns.count, !Self.fits(type, in: view.columns[view.keyColumns[position]].type) {
                    fail(.typeMismatch, "key `\(view.columns[view.keyColumns[position]].name)` of view \(viewName) is \(view.columns[view.keyColumns[position]].type.rawValue), but lookup() gives \(type.name)", key)
                }
            }
            guard let column = view.columns.first(where: { $0.name == columnName }) else {
                let hint = didYouMean(columnName, among: view.columns.map(\.name)).map { "; did you mean `\($0)`?" } ?? ""
                fail(.unknownColumn, "view \(viewName) has no column `\(columnName)`\(hint)", expr)
                return .unknown
            }
            return StaticType(column.type)
        case .call(let function, let arguments):
            let aggregate = function == .sum || function == .count
            if aggregate {
                guard case .path(let path) = arguments[0].kind, path.hasWildcard else {
                    fail(.invalidExpression, "\(function.rawValue)() takes a path with `[*]`, such as `\(function.rawValue)($.items[*]\(function == .sum ? ".qty" : ""))`", expr)
                    return .unknown
                }
            }
            let types = arguments.map { check($0, in: node, reads: reads, what: what, aggregateArgument: aggregate) }
            switch function {
            case .coalesce:
                let known = types.filter { $0 != .null && $0 != .unknown }
                return types.contains(.unknown) ? .unknown : (Set(known.map(\.name)).count == 1 ? known[0] : .unknown)
            case .len, .count: return .integer
            case .lower, .upper:
                if types[0].isNumeric || types[0] == .boolean { fail(.typeMismatch, "\(function.rawValue)() needs text, not \(types[0].name)", expr) }
                return .text
            case .concat: return .text
            case .min, .max:
                let known = Set(types.filter { $0 != .unknown && $0 != .null }.map { $0.isNumeric ? "number" : $0.name })
                if known.count > 1 { fail(.typeMismatch, "\(function.rawValue)() needs arguments of one type", expr) }
                if types.allSatisfy({ $0 == .integer }) { return .integer }
                return types.allSatisfy(\.isNumeric) ? .real : .unknown
            case .abs:
                if types[0] == .text || types[0] == .boolean { fail(.typeMismatch, "abs() needs a number, not \(types[0].name)", expr) }
                return types[0].isNumeric ? types[0] : .unknown
            case .round:
                for t in types where t == .text || t == .boolean { fail(.typeMismatch, "round() needs numbers, not \(t.name)", expr) }
                if types.count == 2, types[1] == .real { fail(.typeMismatch, "round()'s digits must be an integer", expr) }
                return arguments.count == 1 ? .integer : .real
            case .sum: return .unknown
            case .if:
                if types[0] != .boolean && types[0] != .unknown && types[0] != .null {
                    fail(.typeMismatch, "if()'s condition must be a boolean, not \(types[0].name)", expr)
                }
                let known = types.dropFirst().filter { $0 != .null && $0 != .unknown }
                return types.dropFirst().contains(.unknown) ? .unknown : (Set(known.map(\.name)).count == 1 ? known[0] : .unknown)
            }
        }
    }

    /// Whether a value of static type `type` can ever be stored in a column of type `column`.
    static func fits(_ type: StaticType, in column: ColumnType) -> Bool {
        switch (type, column) {
        case (.unknown, _), (.null, _): return true
        case (.text, .text), (.integer, .integer), (.integer, .real), (.real, .real), (.boolean, .boolean): return true
        case (_, .json): return true
        default: return false
        }
    }
}
