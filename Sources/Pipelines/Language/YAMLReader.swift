import Yams

/// Reads pipeline YAML into a composed `Yams.Node` tree, rejecting documents that are too large,
/// too deep or that expand aliases without bound ("billion laughs").
///
/// Why the limits hold on the composed tree: Yams composes an alias as the node it repeats, so
/// the tree is as small as the text, and libyaml stops at 1,000 levels of nesting. Everything
/// after reading walks the tree recursively and visits an aliased node once per alias, so the
/// depth and the expanded node count are checked before anything walks it. Only Yams' public API
/// is used: its libyaml module is not one of its products.
///
/// - Note: Yams finds duplicate mapping keys while it composes, by hashing them: a key that is a
///   collection made of aliases is hashed fully expanded before the node limit applies (a crafted
///   key of ten million nodes takes seconds). Pipeline keys are plain names, so only a document
///   made to do that gets there.
enum YAMLReader {
    /// Largest pipeline file accepted, in bytes.
    static let maximumBytes = 1 << 20
    /// Deepest nesting of mappings and sequences accepted.
    static let maximumDepth = 32
    /// Most nodes accepted once every alias is expanded.
    static let maximumNodes = 100_000

    /// A problem of the YAML itself, before any pipeline key is read.
    struct Failure: Error {
        var code: PipelineError.Code
        var message: String
        var line: Int
        var column: Int
    }

    /// The document's root node, or nil when the document is empty.
    static func read(_ text: String) throws(Failure) -> Node? {
        if text.utf8.count > maximumBytes {
            throw Failure(code: .tooComplex, message: "the file is larger than \(maximumBytes) bytes", line: 1, column: 1)
        }
        let parser: Parser
        let root: Node?
        do {
            parser = try Parser(yaml: text, resolver: .basic, constructor: .default, encoding: .utf8)
            root = try parser.singleRoot()
        } catch let error as YamlError {
            throw failure(from: error, text: text)
        } catch {
            throw Failure(code: .yamlSyntax, message: "\(error)", line: 1, column: 1)
        }
        guard let root else { return nil }
        // Nodes hold their anchors weakly: the parser keeps them alive while aliases are counted.
        defer { withExtendedLifetime(parser) {} }
        var sizes: [ObjectIdentifier: Int] = [:]
        _ = try expandedSize(of: root, depth: 0, sizes: &sizes)
        return root
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

    /// The node count of `node` with every alias expanded, as libyaml's events would count it:
    /// throws at the first collection nested deeper than `maximumDepth`, or once a collection's
    /// count passes `maximumNodes`. A node met again is an alias: it counts the size its anchor's
    /// definition had, without walking it again or adding its depth, so the walk stays linear.
    private static func expandedSize(
        of node: Node, depth: Int, sizes: inout [ObjectIdentifier: Int]
    ) throws(Failure) -> Int {
        let anchor = node.anchor.map(ObjectIdentifier.init)
        if let anchor, let size = sizes[anchor] { return size }
        let children: [Node]
        switch node {
        case .scalar, .alias: return 1
        case .sequence(let sequence): children = Array(sequence)
        case .mapping(let mapping): children = mapping.flatMap { [$0.key, $0.value] }
        }
        let (line, column) = node.position
        if depth + 1 > maximumDepth {
            throw Failure(code: .tooComplex, message: "the YAML is nested deeper than \(maximumDepth) levels", line: line, column: column)
        }
        var size = 1
        for child in children {
            size += try expandedSize(of: child, depth: depth + 1, sizes: &sizes)
            if size > maximumNodes {
                let (line, column) = child.position
                throw Failure(code: .tooComplex, message: "the YAML expands to more than \(maximumNodes) nodes (too many aliases)", line: line, column: column)
            }
        }
        if let anchor { sizes[anchor] = size }
        return size
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
