import Foundation
import ProjectorModel

/// Runs compiled expressions against one event: reads through the access table, evaluates
/// operators and functions with SQL-like null semantics, and reports failures as `EventFailure`.
enum Evaluator {
    static func resolve(_ access: Access, _ context: EvaluationContext) throws(EventFailure) -> Slot {
        switch access {
        case .slot(let s): return context.slots[s]
        case .missing: return .missing
        case .constant: return .missing
        case .firstPresent(let a, let b):
            let first = try resolve(a, context)
            return first.kind == .missing ? try resolve(b, context) : first
        case .nonNull(let a, _): return try resolve(a, context)
        }
    }

    /// The slot of access-table entry `id`. A plain slot is matched where it stands in the
    /// table: reading the entry out would copy it and destroy the copy (two outlined calls,
    /// ~26 instructions a read).
    @inline(__always)
    static func resolve(_ id: Int, _ context: EvaluationContext) throws(EventFailure) -> Slot {
        if case .slot(let s) = context.access[id] { return context.slots[s] }
        return try resolve(context.access[id], context)
    }

    /// The value at a logical path through access-table entry `id`, a plain slot matched in
    /// place (as by the `resolve` of an id).
    @inline(__always)
    static func read(_ id: Int, _ context: EvaluationContext, path: JSONPath) throws(EventFailure) -> Value {
        if case .slot(let s) = context.access[id] { return try value(of: context.slots[s], context, path: path) }
        return try read(context.access[id], context, path: path)
    }

    /// The value at a logical path through the access table.
    static func read(_ access: Access, _ context: EvaluationContext, path: JSONPath) throws(EventFailure) -> Value {
        switch access {
        case .constant(let c): return c.value
        case .nonNull(let a, let b):
            let v = try read(a, context, path: path)
            return v.isNull ? try read(b, context, path: path) : v
        case .firstPresent(let a, let b):
            let slot = try resolve(a, context)
            return slot.kind == .missing ? try read(b, context, path: path) : try value(of: slot, context, path: path)
        default:
            return try value(of: resolve(access, context), context, path: path)
        }
    }

    static func value(of slot: Slot, _ context: EvaluationContext, path: JSONPath) throws(EventFailure) -> Value {
        switch slot.kind {
        case .missing, .null: return .null
        case .boolean: return .boolean(slot.extra == 1)
        case .string:
            return .string(Span(base: context.bytes.baseAddress! + slot.start, count: slot.end - slot.start), escaped: slot.extra == 1)
        case .object, .array:
            return .composite(Span(base: context.bytes.baseAddress! + slot.start, count: slot.end - slot.start), elements: slot.kind == .array ? slot.extra : -1)
        case .number:
            return try number(UnsafeBufferPointer(rebasing: context.bytes[slot.start..<slot.end]), integral: slot.extra == 1, path: path)
        }
    }

    // MARK: Evaluation

    static func evaluate(_ expression: CompiledExpression, _ context: EvaluationContext, row: [ViewValue]) throws(EventFailure) -> Value {
        switch expression {
        case .constant(let c): return c.value
        case .path(let id, let path): return try read(id, context, path: path)
        case .column(let index, let type): return Value.from(row[index], type: type)
        case .lookup(let slot, let column, let type):
            guard let looked = context.lookedUp![slot] else { return .null }
            return Value.from(looked[column], type: type)
        case .meta(let field):
            switch field {
            case .key: return context.key
            case .topic: return .text(context.topic)
            case .partition: return .integer(Int64(context.partition))
            case .offset: return .integer(context.offset)
            case .timestamp: return context.timestamp.map { .integer($0) } ?? .null
            }
        case .aggregate(let function, let id, let path, let walk):
            return try aggregate(function, resolve(id, context), path: path, walk: walk, context)
        case .unary(let op, let operand):
            let v = try evaluate(operand, context, row: row)
            switch (op, v) {
            case (_, .null): return .null
            case (.negate, .integer(let i)):
                let (r, o) = Int64(0).subtractingReportingOverflow(i)
                if o { throw EventFailure(code: .overflow, message: "`-` overflows on \(i)") }
                return .integer(r)
            case (.negate, .real(let d)): return .real(-d)
            case (.not, .boolean(let b)): return .boolean(!b)
            default: throw EventFailure(code: .typeMismatch, message: "`\(op.rawValue)` cannot apply to \(v.typeName)")
            }
        case .binary(let op, let lhs, let rhs):
            if op == .and || op == .or { return try logical(op, lhs, rhs, context, row: row) }
            let l = try evaluate(lhs, context, row: row)
            let r = try evaluate(rhs, context, row: row)
            return try binary(op, l, r)
        case .call(let function, let arguments):
            return try call(function, arguments, context, row: row)
        }
    }

    private static func logical(_ op: BinaryOperator, _ lhs: CompiledExpression, _ rhs: CompiledExpression, _ context: EvaluationContext, row: [ViewValue]) throws(EventFailure) -> Value {
        func truth(_ v: Value) throws(EventFailure) -> Bool? {
            switch v {
            case .null: return nil
            case .boolean(let b): return b
            default: throw EventFailure(code: .typeMismatch, message: "`\(op.rawValue)` needs booleans, not \(v.typeName)")
            }
        }
        let l = try truth(evaluate(lhs, context, row: row))
        if op == .and, l == false { return .boolean(false) }
        if op == .or, l == true { return .boolean(true) }
        let r = try truth(evaluate(rhs, context, row: row))
        switch (op, l, r) {
        case (.and, _, false): return .boolean(false)
        case (.and, true, true): return .boolean(true)
        case (.or, _, true): return .boolean(true)
        case (.or, false, false): return .boolean(false)
        default: return .null
        }
    }

    static func binary(_ op: BinaryOperator, _ l: Value, _ r: Value) throws(EventFailure) -> Value {
        if l.isNull || r.isNull { return .null }
        switch op {
        case .add, .subtract, .multiply:
            switch (l, r) {
            case (.integer(let a), .integer(let b)):
                let (v, o): (Int64, Bool)
                switch op {
                case .add: (v, o) = a.addingReportingOverflow(b)
                case .subtract: (v, o) = a.subtractingReportingOverflow(b)
                default: (v, o) = a.multipliedReportingOverflow(by: b)
                }
                if o { throw EventFailure(code: .overflow, message: "integer overflow in \(a) \(op.rawValue) \(b)") }
                return .integer(v)
            default:
                guard let a = real(l), let b = real(r) else {
                    throw EventFailure(code: .typeMismatch, message: "`\(op.rawValue)` needs numbers, not \(l.typeName) and \(r.typeName)")
                }
                let v = op == .add ? a + b : op == .subtract ? a - b : a * b
                guard v.isFinite else { throw EventFailure(code: .overflow, message: "real overflow in `\(op.rawValue)`") }
                return .real(v)
            }
        case .divide:
            guard let a = real(l), let b = real(r) else {
                throw EventFailure(code: .typeMismatch, message: "`/` needs numbers, not \(l.typeName) and \(r.typeName)")
            }
            if b == 0 { throw EventFailure(code: .divisionByZero, message: "division by zero") }
            let v = a / b
            guard v.isFinite else { throw EventFailure(code: .overflow, message: "real overflow in `/`") }
            return .real(v)
        case .remainder:
            guard case .integer(let a) = l, case .integer(let b) = r else {
                throw EventFailure(code: .typeMismatch, message: "`%` needs integers, not \(l.typeName) and \(r.typeName)")
            }
            if b == 0 { throw EventFailure(code: .divisionByZero, message: "remainder by zero") }
            let (v, o) = a.remainderReportingOverflow(dividingBy: b)
            return .integer(o ? 0 : v)
        case .concat:
            guard let a = l.asText, let b = r.asText else { return .null }
            return .text(a + b)
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
            let order = try compare(l, r, op)
            switch op {
            case .equal: return .boolean(order == 0)
            case .notEqual: return .boolean(order != 0)
            case .less: return .boolean(order < 0)
            case .lessOrEqual: return .boolean(order <= 0)
            case .greater: return .boolean(order > 0)
            default: return .boolean(order >= 0)
            }
        case .and, .or:
            preconditionFailure("logical operators short-circuit in evaluate")
        }
    }

    static func real(_ v: Value) -> Double? {
        switch v {
        case .integer(let i): return Double(i)
        case .real(let d): return d
        default: return nil
        }
    }

    /// Three-way comparison of two non-null values of compatible types.
    static func compare(_ l: Value, _ r: Value, _ op: BinaryOperator) throws(EventFailure) -> Int {
        switch (l, r) {
        case (.integer(let a), .integer(let b)): return a < b ? -1 : a > b ? 1 : 0
        case (.integer, .real), (.real, .integer), (.real, .real):
            let a = real(l)!, b = real(r)!
            return a < b ? -1 : a > b ? 1 : 0
        case (.boolean(let a), .boolean(let b)): return a == b ? 0 : (!a ? -1 : 1)
        case (.text, .text), (.text, .string), (.string, .text), (.string, .string):
            return withBytes(l) { a in withBytes(r) { b in
                var i = 0
                while i < a.count && i < b.count {
                    if a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
                    i += 1
                }
                return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
            } }
        default:
            throw EventFailure(code: .typeMismatch, message: "cannot compare \(l.typeName) with \(r.typeName) using `\(op.rawValue)`")
        }
    }

    /// Calls `body` with the UTF-8 bytes of a text value, without allocating for unescaped JSON.
    static func withBytes<R>(_ v: Value, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        switch v {
        case .string(let span, false): return body(span.buffer)
        default:
            var s = v.materialized ?? ""
            return s.withUTF8(body)
        }
    }

    private static func call(_ function: Function, _ arguments: [CompiledExpression], _ context: EvaluationContext, row: [ViewValue]) throws(EventFailure) -> Value {
        switch function {
        case .if:
            switch try evaluate(arguments[0], context, row: row) {
            case .boolean(true): return try evaluate(arguments[1], context, row: row)
            case .boolean(false), .null: return try evaluate(arguments[2], context, row: row)
            case let v: throw EventFailure(code: .typeMismatch, message: "if() needs a boolean condition, not \(v.typeName)")
            }
        case .coalesce:
            for a in arguments {
                let v = try evaluate(a, context, row: row)
                if !v.isNull { return v }
            }
            return .null
        case .concat:
            var out = ""
            for a in arguments { if let s = try evaluate(a, context, row: row).asText { out += s } }
            return .text(out)
        case .len:
            let v = try evaluate(arguments[0], context, row: row)
            switch v {
            case .null: return .null
            case .composite(_, let elements) where elements >= 0: return .integer(Int64(elements))
            case .text, .string: return .integer(Int64(v.materialized!.unicodeScalars.count))
            default: throw EventFailure(code: .typeMismatch, message: "len() needs text or an array, not \(v.typeName)")
            }
        case .lower, .upper:
            let v = try evaluate(arguments[0], context, row: row)
            if v.isNull { return .null }
            guard let s = v.materialized else {
                throw EventFailure(code: .typeMismatch, message: "\(function.rawValue)() needs text, not \(v.typeName)")
            }
            return .text(function == .lower ? s.lowercased() : s.uppercased())
        case .min, .max:
            var best = try evaluate(arguments[0], context, row: row)
            if best.isNull { return .null }
            for a in arguments.dropFirst() {
                let v = try evaluate(a, context, row: row)
                if v.isNull { return .null }
                let order = try compare(v, best, function == .min ? .less : .greater)
                if function == .min ? order < 0 : order > 0 { best = v }
            }
            switch best {
            case .integer, .real, .text, .string, .boolean: return best
            default: throw EventFailure(code: .typeMismatch, message: "\(function.rawValue)() cannot compare \(best.typeName)")
            }
        case .abs:
            let v = try evaluate(arguments[0], context, row: row)
            switch v {
            case .null: return .null
            case .integer(let i):
                if i == .min { throw EventFailure(code: .overflow, message: "abs() overflows on \(i)") }
                return .integer(Swift.abs(i))
            case .real(let d): return .real(Swift.abs(d))
            default: throw EventFailure(code: .typeMismatch, message: "abs() needs a number, not \(v.typeName)")
            }
        case .round:
            let v = try evaluate(arguments[0], context, row: row)
            if v.isNull { return .null }
            guard let x = real(v) else { throw EventFailure(code: .typeMismatch, message: "round() needs a number, not \(v.typeName)") }
            if arguments.count == 1 {
                if case .integer = v { return v }
                let r = x.rounded(.toNearestOrAwayFromZero)
                guard r >= -9.223372036854775808e18 && r < 9.223372036854775808e18 else {
                    throw EventFailure(code: .overflow, message: "round(\(x)) does not fit in a 64-bit integer")
                }
                return .integer(Int64(r))
            }
            let d = try evaluate(arguments[1], context, row: row)
            if d.isNull { return .null }
            guard case .integer(let digits) = d, digits >= -308 && digits <= 308 else {
                throw EventFailure(code: .typeMismatch, message: "round()'s digits must be an integer between -308 and 308")
            }
            let scale = pow(10.0, Double(digits))
            let r = (x * scale).rounded(.toNearestOrAwayFromZero) / scale
            return .real(r.isFinite ? r : x)
        case .sum, .count:
            preconditionFailure("aggregates compile to CompiledExpression.aggregate")
        }
    }

    private static func aggregate(_ function: Function, _ array: Slot, path: JSONPath, walk: WildcardWalk, _ context: EvaluationContext) throws(EventFailure) -> Value {
        switch array.kind {
        case .missing, .null: return .integer(0)
        case .array: break
        default: throw EventFailure(code: .typeMismatch, message: "\(function.rawValue)(`\(path)`): the value before `[*]` is \(array.kind), not an array")
        }
        if function == .count {
            var counter = PresentCounter()
            try walk.walk(from: array, in: context.bytes, &counter)
            return .integer(counter.count)
        }
        var sum = NumberSum(bytes: context.bytes, path: path)
        try walk.walk(from: array, in: context.bytes, &sum)
        return sum.total
    }
}

/// `count(path[*])`: the values reached that are neither missing nor null.
private struct PresentCounter: SlotVisitor {
    var count: Int64 = 0

    mutating func visit(_ slot: Slot) throws(EventFailure) {
        if slot.kind != .null && slot.kind != .missing { count += 1 }
    }
}

/// `sum(path[*])`: the numbers reached, nulls ignored, anything else an error.
private struct NumberSum: SlotVisitor {
    let bytes: UnsafeBufferPointer<UInt8>
    let path: JSONPath
    var total: Value = .integer(0)

    mutating func visit(_ slot: Slot) throws(EventFailure) {
        switch slot.kind {
        case .missing, .null: return
        case .number:
            let v = try Evaluator.number(UnsafeBufferPointer(rebasing: bytes[slot.start..<slot.end]), integral: slot.extra == 1, path: path)
            total = try Evaluator.binary(.add, total, v)
        default:
            let name = slot.kind == .string ? "text" : slot.kind == .array ? "array" : "\(slot.kind)"
            throw EventFailure(code: .typeMismatch, message: "sum(`\(path)`) found \(name), not a number")
        }
    }
}
