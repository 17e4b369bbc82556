/// Recursive-descent parser. Precedence, tightest first: unary `-`/`not`; `* / %`; `+ -`; `||`;
/// comparisons; `and`; `or`. Operators of one level associate left to right.
struct ExpressionParser {
    /// Deepest nesting of parentheses, operators and calls accepted.
    static let maximumDepth = 64

    private var lexer: ExpressionLexer
    private var current: Token
    private var depth = 0

    static func parse(_ text: String) throws(ExpressionSyntaxError) -> Expr {
        var parser = try ExpressionParser(text)
        if case .end = parser.current.kind {
            throw ExpressionSyntaxError(message: "empty expression", offset: 0)
        }
        let expr = try parser.parseOr()
        guard case .end = parser.current.kind else {
            throw ExpressionSyntaxError(message: "unexpected \(parser.describe(parser.current)) after a complete expression", offset: parser.current.offset)
        }
        return expr
    }

    private init(_ text: String) throws(ExpressionSyntaxError) {
        lexer = ExpressionLexer(text)
        current = try lexer.next()
    }

    private mutating func advance() throws(ExpressionSyntaxError) { current = try lexer.next() }

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case .integer(let v): return "number `\(v)`"
        case .real(let v): return "number `\(v)`"
        case .text: return "string"
        case .name(let n): return "`\(n)`"
        case .path(let p): return "path `\(p)`"
        case .meta(let m): return "`$\(m.rawValue)`"
        case .op(let o): return "`\(o)`"
        case .leftParen: return "`(`"
        case .rightParen: return "`)`"
        case .comma: return "`,`"
        case .dot: return "`.`"
        case .end: return "end of expression"
        }
    }

    private func isOperator(_ symbols: Set<String>) -> String? {
        switch current.kind {
        case .op(let o) where symbols.contains(o): return o
        case .name(let n) where symbols.contains(n): return n
        default: return nil
        }
    }

    private mutating func enter() throws(ExpressionSyntaxError) {
        depth += 1
        if depth > Self.maximumDepth {
            throw ExpressionSyntaxError(message: "expression nested deeper than \(Self.maximumDepth) levels", offset: current.offset)
        }
    }

    private mutating func binaryLevel(
        _ symbols: Set<String>, _ operand: (inout ExpressionParser) throws(ExpressionSyntaxError) -> Expr
    ) throws(ExpressionSyntaxError) -> Expr {
        var left = try operand(&self)
        while let symbol = isOperator(symbols) {
            let offset = current.offset
            try advance()
            try enter()
            let right = try operand(&self)
            left = Expr(kind: .binary(BinaryOperator(rawValue: symbol)!, left, right), offset: offset)
        }
        return left
    }

    mutating func parseOr() throws(ExpressionSyntaxError) -> Expr {
        try enter(); defer { depth -= 1 }
        return try binaryLevel(["or"]) { (p: inout ExpressionParser) throws(ExpressionSyntaxError) in try p.parseAnd() }
    }
    private mutating func parseAnd() throws(ExpressionSyntaxError) -> Expr {
        try binaryLevel(["and"]) { (p: inout ExpressionParser) throws(ExpressionSyntaxError) in try p.parseComparison() }
    }
    private mutating func parseComparison() throws(ExpressionSyntaxError) -> Expr {
        try binaryLevel(["==", "!=", "<", "<=", ">", ">="]) { (p: inout ExpressionParser) throws(ExpressionSyntaxError) in try p.parseConcat() }
    }
    private mutating func parseConcat() throws(ExpressionSyntaxError) -> Expr {
        try binaryLevel(["||"]) { (p: inout ExpressionParser) throws(ExpressionSyntaxError) in try p.parseAdditive() }
    }
    private mutating func parseAdditive() throws(ExpressionSyntaxError) -> Expr {
        try binaryLevel(["+", "-"]) { (p: inout ExpressionParser) throws(ExpressionSyntaxError) in try p.parseMultiplicative() }
    }
    private mutating func parseMultiplicative() throws(ExpressionSyntaxError) -> Expr {
        try binaryLevel(["*", "/", "%"]) { (p: inout ExpressionParser) throws(ExpressionSyntaxError) in try p.parseUnary() }
    }

    private mutating func parseUnary() throws(ExpressionSyntaxError) -> Expr {
        let offset = current.offset
        if isOperator(["-"]) != nil {
            try advance(); try enter(); defer { depth -= 1 }
            let operand = try parseUnary()
            // Fold literal negation so that `-5` is the literal -5 (and Int64.min is writable).
            switch operand.kind {
            case .integer(let v): return Expr(kind: .integer(0 &- v), offset: offset)
            case .real(let v): return Expr(kind: .real(-v), offset: offset)
            default: return Expr(kind: .unary(.negate, operand), offset: offset)
            }
        }
        if isOperator(["not"]) != nil {
            try advance(); try enter(); defer { depth -= 1 }
            return Expr(kind: .unary(.not, try parseUnary()), offset: offset)
        }
        return try parsePrimary()
    }

    private static let reserved: Set<String> = ["and", "or", "not"]

    private mutating func parsePrimary() throws(ExpressionSyntaxError) -> Expr {
        let token = current
        switch token.kind {
        case .integer(let v): try advance(); return Expr(kind: .integer(v), offset: token.offset)
        case .real(let v): try advance(); return Expr(kind: .real(v), offset: token.offset)
        case .text(let s): try advance(); return Expr(kind: .text(s), offset: token.offset)
        case .path(let p): try advance(); return Expr(kind: .path(p), offset: token.offset)
        case .meta(let m): try advance(); return Expr(kind: .meta(m), offset: token.offset)
        case .leftParen:
            try advance()
            let inner = try parseOr()
            guard case .rightParen = current.kind else {
                throw ExpressionSyntaxError(message: "expected `)` but found \(describe(current))", offset: current.offset)
            }
            try advance()
            return inner
        case .name(let name):
            try advance()
            switch name {
            case "true": return Expr(kind: .boolean(true), offset: token.offset)
            case "false": return Expr(kind: .boolean(false), offset: token.offset)
            case "null": return Expr(kind: .null, offset: token.offset)
            default: break
            }
            if Self.reserved.contains(name) {
                throw ExpressionSyntaxError(message: "`\(name)` needs an operand before it", offset: token.offset)
            }
            guard case .leftParen = current.kind else { return Expr(kind: .column(name), offset: token.offset) }
            if name == "lookup" { return try parseLookup(at: token.offset) }
            guard let function = Function(rawValue: name) else {
                let hint = didYouMean(name, among: Function.allCases.map(\.rawValue) + ["lookup"]).map { "; did you mean `\($0)`?" } ?? ""
                throw ExpressionSyntaxError(message: "unknown function `\(name)`\(hint)", offset: token.offset)
            }
            try advance()
            try enter(); defer { depth -= 1 }
            var arguments: [Expr] = []
            if case .rightParen = current.kind {} else {
                while true {
                    arguments.append(try parseOr())
                    if case .comma = current.kind { try advance(); continue }
                    break
                }
            }
            guard case .rightParen = current.kind else {
                throw ExpressionSyntaxError(message: "expected `,` or `)` in the arguments of `\(name)` but found \(describe(current))", offset: current.offset)
            }
            try advance()
            guard function.arity.contains(arguments.count) else {
                let range = function.arity
                let wanted = range.upperBound == Int.max ? "at least \(range.lowerBound)" : range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound) or \(range.upperBound)"
                throw ExpressionSyntaxError(message: "`\(name)` takes \(wanted) argument\(wanted == "1" ? "" : "s"), not \(arguments.count)", offset: token.offset)
            }
            return Expr(kind: .call(function, arguments), offset: token.offset)
        default:
            throw ExpressionSyntaxError(message: "expected a value but found \(describe(token))", offset: token.offset)
        }
    }

    /// `lookup('view', key…).column`, the current token being the `(`.
    private mutating func parseLookup(at offset: Int) throws(ExpressionSyntaxError) -> Expr {
        try advance()
        try enter(); defer { depth -= 1 }
        guard case .text(let view) = current.kind else {
            throw ExpressionSyntaxError(
                message: "lookup() takes the view's name as a 'string' first, such as lookup('accounts', $key).owner",
                offset: current.offset)
        }
        try advance()
        var keys: [Expr] = []
        while case .comma = current.kind {
            try advance()
            keys.append(try parseOr())
        }
        guard case .rightParen = current.kind else {
            throw ExpressionSyntaxError(message: "expected `,` or `)` in the arguments of `lookup` but found \(describe(current))", offset: current.offset)
        }
        try advance()
        guard !keys.isEmpty else {
            throw ExpressionSyntaxError(message: "lookup('\(view)') needs the key of the row, such as lookup('\(view)', $key)", offset: offset)
        }
        guard case .dot = current.kind else {
            throw ExpressionSyntaxError(
                message: "lookup('\(view)', …) is a row: name the column to read, such as lookup('\(view)', …).column",
                offset: current.offset)
        }
        try advance()
        guard case .name(let column) = current.kind else {
            throw ExpressionSyntaxError(message: "expected a column name after `.` but found \(describe(current))", offset: current.offset)
        }
        try advance()
        return Expr(kind: .lookup(view: view, keys: keys, column: column), offset: offset)
    }
}
