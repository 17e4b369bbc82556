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
