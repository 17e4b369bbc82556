import CYaml
import Yams

/// Reads pipeline YAML into a composed `Yams.Node` tree, after guarding against documents that
/// are too large, too deep or that expand aliases without bound ("billion laughs").
///
/// Why a pre-pass: Yams composes recursively and hashes mapping keys to find duplicates, so a deep
/// or alias-bombed document could exhaust the stack or the CPU before we see its tree. libyaml's
/// event parser keeps its own heap stacks, so walking its events first is safe.
enum YAMLReader {
    /// Largest pipeline file accepted, in bytes.
    static let maximumBytes = 1 << 20
    /// Deepest nesting of mappings and sequences accepted.
    static let maximumDepth = 32
    /// Most nodes accepted once every alias is expanded.
    static let maximumNodes = 100_000

    struct Failure: Error {
        var code: PipelineError.Code
        var message: String
        var line: Int
        var column: Int
    }

    static func read(_ text: String) throws(Failure) -> Node? {
        if text.utf8.count > maximumBytes {
            throw Failure(code: .tooComplex, message: "the file is larger than \(maximumBytes) bytes", line: 1, column: 1)
        }
        try guardStructure(text)
        do {
            return try Yams.compose(yaml: text, Resolver.basic, Constructor.default, .utf8)
        } catch let error as YamlError {
            throw failure(from: error, text: text)
        } catch {
            throw Failure(code: .yamlSyntax, message: "\(error)", line: 1, column: 1)
        }
    }

    private static func failure(from error: YamlError, text: String) -> Failure {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let what = context.map { "\(problem) \($0.text)" } ?? problem
            if what.contains("nesting level") {
                return Failure(code: .tooComplex, message: "the YAML is nested deeper than \(maximumDepth) levels", line: mark.line, column: mark.column)
            }
            return Failure(code: .yamlSyntax, message: "invalid YAML: \(what)", line: mark.line, column: mark.column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? ""
            let (line, column) = locateDuplicate(key: key, first: context.mark, in: text)
            return Failure(code: .duplicateKey, message: "duplicate key `\(key)` (first at line \(context.mark.line), column \(context.mark.column))", line: line, column: column)
        default:
            return Failure(code: .yamlSyntax, message: "invalid YAML: \(error)", line: 1, column: 1)
        }
    }

    /// Finds the second occurrence of a duplicated key after its first one: the next `key:` that
    /// starts a block entry at the same column, or follows `{`/`,` in flow style.
    static func locateDuplicate(key: String, first: Mark, in text: String) -> (Int, Int) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        let needles = [key, "\"\(key)\"", "'\(key)'"].map { Array($0.unicodeScalars) }
        func matches(_ line: [Unicode.Scalar], at i: Int) -> Bool {
            for needle in needles where i + needle.count <= line.count && Array(line[i..<(i + needle.count)]) == needle {
                var j = i + needle.count
                while j < line.count, line[j] == " " { j += 1 }
                if j < line.count, line[j] == ":" { return true }
            }
            return false
        }
        var lineIndex = first.line - 1
        var start = first.column  // skip the first occurrence itself
        while lineIndex < lines.count {
            let line = lines[lineIndex]
            var i = start
            while i < line.count {
                let previous = i == 0 ? " " : line[i - 1]
                if previous == " " || previous == "{" || previous == ",", matches(line, at: i) {
                    if lineIndex == first.line - 1 || i == first.column - 1 || previous != " " || line[..<i].allSatisfy({ $0 == " " || $0 == "-" || $0 == "{" || $0 == "," }) {
                        return (lineIndex + 1, i + 1)
                    }
                }
                i += 1
            }
            lineIndex += 1
            start = 0
        }
        return (first.line, first.column)
    }

    /// Walks libyaml events: rejects nesting deeper than `maximumDepth` and alias expansion beyond
    /// `maximumNodes`. Syntax errors are left for the composer, which reports them with a position.
    private static func guardStructure(_ text: String) throws(Failure) {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        var result: Failure?
        bytes.withUnsafeMutableBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            // (anchor of the open collection, expanded node count so far)
            var stack: [(String?, Int)] = [(nil, 0)]
            var sizes: [String: Int] = [:]
            var event = yaml_event_t()
            func anchor(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
                pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            }
            loop: while true {
                guard yaml_parser_parse(&parser, &event) == 1 else { break }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                let column = Int(event.start_mark.column) + 1
                var added = 0
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    break loop
                case YAML_SCALAR_EVENT:
                    added = 1
                    if let name = anchor(event.data.scalar.anchor) { sizes[name] = 1 }
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let name = event.type == YAML_SEQUENCE_START_EVENT ? anchor(event.data.sequence_start.anchor) : anchor(event.data.mapping_start.anchor)
                    stack.append((name, 1))
                    if stack.count - 1 > maximumDepth {
                        result = Failure(code: .tooComplex, message: "the YAML is nested deeper than \(maximumDepth) levels", line: line, column: column)
                        break loop
                    }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    let (name, size) = stack.removeLast()
                    if let name { sizes[name] = size }
                    added = size
                case YAML_ALIAS_EVENT:
                    added = anchor(event.data.alias.anchor).flatMap { sizes[$0] } ?? 1
                default:
                    break
                }
                if added > 0 {
                    stack[stack.count - 1].1 += added
                    if stack[stack.count - 1].1 > maximumNodes || added > maximumNodes {
                        result = Failure(code: .tooComplex, message: "the YAML expands to more than \(maximumNodes) nodes (too many aliases)", line: line, column: column)
                        break loop
                    }
                }
            }
        }
        if let result { throw result }
    }
}

extension Node {
    /// The node's position, 1-based; (0, 0) when unknown.
    var position: (line: Int, column: Int) {
        guard let mark else { return (0, 0) }
        return (mark.line, mark.column)
    }

    /// A word for the node's shape, for messages.
    var shapeName: String {
        switch self {
        case .scalar: return "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}
