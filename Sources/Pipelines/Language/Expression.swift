/// One step of a JSON path: `.name`, `[3]` or `[*]`.
enum PathComponent: Hashable, Sendable {
    case member(String)
    case index(Int)
    case wildcard
}

/// A JSON path below the event root (`$`), such as `$.data.items[*].qty`.
struct JSONPath: Hashable, Sendable, CustomStringConvertible {
    var components: [PathComponent]

    var hasWildcard: Bool { components.contains(.wildcard) }

    func hasPrefix(_ other: JSONPath) -> Bool {
        other.components.count <= components.count
            && Array(components.prefix(other.components.count)) == other.components
    }

    var description: String {
        var out = "$"
        for component in components {
            switch component {
            case .member(let name): out += "." + name
            case .index(let i): out += "[\(i)]"
            case .wildcard: out += "[*]"
            }
        }
        return out
    }

    /// Parses a whole path such as `$.a.b[0]`; returns nil and a reason when malformed.
    static func parse(_ text: String) -> Result<JSONPath, ExpressionSyntaxError> {
        var lexer = ExpressionLexer(text)
        do {
            let token = try lexer.next()
            guard case .path(let path) = token.kind else {
                return .failure(ExpressionSyntaxError(message: "`\(text)` is not a JSON path (write `$.field`)", offset: 0))
            }
            let end = try lexer.next()
            guard case .end = end.kind else {
                return .failure(ExpressionSyntaxError(message: "unexpected text after the path `\(path)`", offset: end.offset))
            }
            return .success(path)
        } catch {
            return .failure(error)
        }
    }
}

/// Message metadata readable in expressions.
enum MetaField: String, Hashable, Sendable, CaseIterable {
    case key, topic, partition, offset, timestamp
}

enum UnaryOperator: String, Hashable, Sendable {
    case negate = "-"
    case not = "not"
}

enum BinaryOperator: String, Hashable, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"
    case concat = "||"
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case and = "and", or = "or"

    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: return true
        default: return false
        }
    }
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
        }
    }

    /// Calls `body` on this node and every node below it.
    func visit(_ body: (Expr) -> Void) {
        body(self)
        switch kind {
        case .unary(_, let e): e.visit(body)
        case .binary(_, let l, let r): l.visit(body); r.visit(body)
        case .call(_, let args): for a in args { a.visit(body) }
        default: break
        }
    }

    /// Whether the expression reads neither the event, the message nor a row.
    var isConstant: Bool {
        var constant = true
        visit { node in
            switch node.kind {
            case .path, .meta, .column: constant = false
            default: break
            }
        }
        return constant
    }
}

/// A syntax error in an expression, at a Unicode-scalar offset of its text.
struct ExpressionSyntaxError: Error {
    var message: String
    var offset: Int
}

struct Token {
    enum Kind {
        case integer(Int64)
        case real(Double)
        case text(String)
        case name(String)
        case path(JSONPath)
        case meta(MetaField)
        case op(String)
        case leftParen, rightParen, comma, end
    }
    var kind: Kind
    var offset: Int
}

/// Splits expression text into tokens.
struct ExpressionLexer {
    private let scalars: [Unicode.Scalar]
    private var position = 0

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
        position + ahead < scalars.count ? scalars[position + ahead] : nil
    }

    private static func isIdentStart(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_"
    }
    private static func isIdent(_ c: Unicode.Scalar) -> Bool {
        isIdentStart(c) || (c >= "0" && c <= "9")
    }
    private static func isDigit(_ c: Unicode.Scalar?) -> Bool {
        guard let c else { return false }
        return c >= "0" && c <= "9"
    }

    private mutating func identifier() -> String {
        var name = ""
        while let c = peek(), Self.isIdent(c) { name.unicodeScalars.append(c); position += 1 }
        return name
    }

    mutating func next() throws(ExpressionSyntaxError) -> Token {
        while let c = peek(), c == " " || c == "\t" || c == "\n" || c == "\r" { position += 1 }
        let start = position
        guard let c = peek() else { return Token(kind: .end, offset: start) }
        if Self.isDigit(c) { return try number(start) }
        if Self.isIdentStart(c) { return Token(kind: .name(identifier()), offset: start) }
        switch c {
        case "'":
            position += 1
            var text = ""
            while true {
                guard let d = peek() else {
                    throw ExpressionSyntaxError(message: "unterminated string (strings are in single quotes, `''` is a quote)", offset: start)
                }
                position += 1
                if d == "'" {
                    if peek() == "'" { text.unicodeScalars.append("'"); position += 1 } else { break }
                } else {
                    text.unicodeScalars.append(d)
                }
            }
            return Token(kind: .text(text), offset: start)
        case "$":
            position += 1
            if let d = peek(), Self.isIdentStart(d) {
                let name = identifier()
                guard let meta = MetaField(rawValue: name) else {
                    let hint = didYouMean(name, among: MetaField.allCases.map(\.rawValue)).map { "; did you mean `$\($0)`?" } ?? ""
                    throw ExpressionSyntaxError(message: "unknown message field `$\(name)` (use `$.\(name)` for an event field, or one of $key $topic $partition $offset $timestamp)\(hint)", offset: start)
                }
                return Token(kind: .meta(meta), offset: start)
            }
            var components: [PathComponent] = []
            while let d = peek() {
                if d == "." {
                    position += 1
                    guard let e = peek(), Self.isIdentStart(e) else {
                        throw ExpressionSyntaxError(message: "a path needs a field name after `.`", offset: position)
                    }
                    components.append(.member(identifier()))
                } else if d == "[" {
                    position += 1
                    if peek() == "*" {
                        position += 1
                        components.append(.wildcard)
                    } else if Self.isDigit(peek()) {
                        var value = 0
                        while Self.isDigit(peek()) {
                            let digit = Int(peek()!.value - 48)
                            let (m, o1) = value.multipliedReportingOverflow(by: 10)
                            let (s, o2) = m.addingReportingOverflow(digit)
                            if o1 || o2 || s > 1_000_000 { throw ExpressionSyntaxError(message: "array index too large", offset: position) }
                            value = s
                            position += 1
                        }
                        components.append(.index(value))
                    } else {
                        throw ExpressionSyntaxError(message: "expected an index or `*` in `[...]` of a path", offset: position)
                    }
                    guard peek() == "]" else { throw ExpressionSyntaxError(message: "expected `]` in a path", offset: position) }
                    position += 1
                } else {
                    break
                }
            }
            if components.isEmpty {
                throw ExpressionSyntaxError(message: "a path needs at least one step, such as `$.data`", offset: start)
            }
            return Token(kind: .path(JSONPath(components: components)), offset: start)
        case "(": position += 1; return Token(kind: .leftParen, offset: start)
        case ")": position += 1; return Token(kind: .rightParen, offset: start)
        case ",": position += 1; return Token(kind: .comma, offset: start)
        case "+", "-", "*", "/", "%": position += 1; return Token(kind: .op(String(c)), offset: start)
        case "|":
            guard peek(1) == "|" else { throw ExpressionSyntaxError(message: "unexpected `|` (concatenation is `||`)", offset: start) }
            position += 2; return Token(kind: .op("||"), offset: start)
        case "=":
            guard peek(1) == "=" else { throw ExpressionSyntaxError(message: "unexpected `=` (equality is `==`)", offset: start) }
            position += 2; return Token(kind: .op("=="), offset: start)
        case "!":
            guard peek(1) == "=" else { throw ExpressionSyntaxError(message: "unexpected `!` (negation is `not`)", offset: start) }
            position += 2; return Token(kind: .op("!="), offset: start)
        case "<", ">":
            position += 1
            if peek() == "=" { position += 1; return Token(kind: .op(String(c) + "="), offset: start) }
            if c == "<" && peek() == ">" { position += 1; return Token(kind: .op("!="), offset: start) }
            return Token(kind: .op(String(c)), offset: start)
        case "\"":
            throw ExpressionSyntaxError(message: "strings use single quotes: write 'text' (in YAML, \"'text'\")", offset: start)
        default:
            throw ExpressionSyntaxError(message: "unexpected character `\(c)`", offset: start)
        }
    }

    private mutating func number(_ start: Int) throws(ExpressionSyntaxError) -> Token {
        var text = ""
        var isReal = false
        while Self.isDigit(peek()) { text.unicodeScalars.append(peek()!); position += 1 }
        if peek() == ".", Self.isDigit(peek(1)) {
            isReal = true
            text.append("."); position += 1
            while Self.isDigit(peek()) { text.unicodeScalars.append(peek()!); position += 1 }
        }
        if peek() == "e" || peek() == "E" {
            var ahead = 1
            if peek(1) == "+" || peek(1) == "-" { ahead = 2 }
            if Self.isDigit(peek(ahead)) {
                isReal = true
                for _ in 0..<ahead { text.unicodeScalars.append(peek()!); position += 1 }
                while Self.isDigit(peek()) { text.unicodeScalars.append(peek()!); position += 1 }
            }
        }
        if let c = peek(), Self.isIdentStart(c) {
            throw ExpressionSyntaxError(message: "unexpected `\(c)` after a number", offset: position)
        }
        if isReal {
            guard let v = Double(text), v.isFinite else { throw ExpressionSyntaxError(message: "number out of range", offset: start) }
            return Token(kind: .real(v), offset: start)
        }
        guard let v = Int64(text) else { throw ExpressionSyntaxError(message: "integer out of 64-bit range", offset: start) }
        return Token(kind: .integer(v), offset: start)
    }
}

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
            guard let function = Function(rawValue: name) else {
                let hint = didYouMean(name, among: Function.allCases.map(\.rawValue)).map { "; did you mean `\($0)`?" } ?? ""
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
}

/// The closest candidate to `word` by edit distance (insertions, deletions, substitutions and
/// adjacent transpositions), when it is close enough to be a likely typo.
func didYouMean(_ word: String, among candidates: [String]) -> String? {
    let a = Array(word.unicodeScalars)
    var best: (String, Int)?
    for candidate in candidates where candidate != word {
        let b = Array(candidate.unicodeScalars)
        var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        if !a.isEmpty && !b.isEmpty {
            for i in 1...a.count {
                for j in 1...b.count {
                    let cost = a[i - 1] == b[j - 1] ? 0 : 1
                    d[i][j] = Swift.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                    if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                        d[i][j] = Swift.min(d[i][j], d[i - 2][j - 2] + 1)
                    }
                }
            }
        }
        let distance = d[a.count][b.count]
        if distance <= Swift.max(1, Swift.min(a.count, b.count) / 3), best == nil || distance < best!.1 {
            best = (candidate, distance)
        }
    }
    return best?.0
}
