/// A syntax error in an expression, at a Unicode-scalar offset of its text.
struct ExpressionSyntaxError: Error {
    var message: String
    var offset: Int
}

/// One lexical unit of an expression, at a Unicode-scalar offset of its text.
struct Token {
    enum Kind {
        case integer(Int64)
        case real(Double)
        case text(String)
        case name(String)
        case path(JSONPath)
        case meta(MetaField)
        case op(String)
        case leftParen, rightParen, comma, dot, end
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
        case ".": position += 1; return Token(kind: .dot, offset: start)
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
