import Foundation

/// Receives the values a ``WildcardWalk`` reaches.
protocol SlotVisitor {
    mutating func visit(_ slot: Slot) throws(EventFailure)
}

/// The part of a `[*]` path from its first wildcard on (`[*].qty` of `$.items[*].qty`), compiled
/// for walking an array the one-pass scan found: member names are bytes, so a walk compares bytes,
/// copies nothing and allocates nothing.
struct WildcardWalk: Sendable {
    enum Step: Sendable {
        case wildcard
        case index(Int)
        /// A member whose name is `names[start ..< start + count]`.
        case member(start: Int, count: Int)
    }

    let steps: [Step]
    let names: [UInt8]

    init(_ components: ArraySlice<PathComponent>) {
        var steps: [Step] = []
        var names: [UInt8] = []
        for component in components {
            switch component {
            case .wildcard: steps.append(.wildcard)
            case .index(let i): steps.append(.index(i))
            case .member(let name):
                steps.append(.member(start: names.count, count: name.utf8.count))
                names.append(contentsOf: name.utf8)
            }
        }
        self.steps = steps
        self.names = names
    }

    /// Visits, in document order, every value the steps reach from `slot` in `bytes`, a document
    /// the scanner has already validated. Values of the wrong shape on the way are not reached.
    func walk<V: SlotVisitor>(from slot: Slot, in bytes: UnsafeBufferPointer<UInt8>, _ visitor: inout V) throws(EventFailure) {
        try steps.withUnsafeBufferPointer { (steps) throws(EventFailure) in
            try names.withUnsafeBufferPointer { (names) throws(EventFailure) in
                try Walker(bytes: bytes, steps: steps, names: names).visit(slot, step: 0, &visitor)
            }
        }
    }
}

/// One walk's unmanaged view of its steps.
private struct Walker {
    let bytes: UnsafeBufferPointer<UInt8>
    let steps: UnsafeBufferPointer<WildcardWalk.Step>
    let names: UnsafeBufferPointer<UInt8>

    func visit<V: SlotVisitor>(_ slot: Slot, step: Int, _ visitor: inout V) throws(EventFailure) {
        guard step < steps.count else { try visitor.visit(slot); return }
        switch steps[step] {
        case .wildcard:
            guard slot.kind == .array else { return }
            var scanner = JSONScanner(bytes)
            scanner.position = slot.start + 1
            while let element = next(in: &scanner, closing: UInt8(ascii: "]")) {
                try visit(element, step: step + 1, &visitor)
            }
        case .index(let wanted):
            guard slot.kind == .array else { return }
            var scanner = JSONScanner(bytes)
            scanner.position = slot.start + 1
            var index = 0
            while let element = next(in: &scanner, closing: UInt8(ascii: "]")) {
                if index == wanted { try visit(element, step: step + 1, &visitor); return }
                index += 1
            }
        case .member(let start, let count):
            guard slot.kind == .object else { return }
            var scanner = JSONScanner(bytes)
            scanner.position = slot.start + 1
            var found: Slot?
            while let key = nextKey(in: &scanner), let value = next(in: &scanner, closing: UInt8(ascii: "}")) {
                if matches(key, start: start, count: count) { found = value }  // the last duplicate wins
            }
            if let found { try visit(found, step: step + 1, &visitor) }
        }
    }

    /// The next value of an array, or of an object after its key; nil at the closing bracket.
    private func next(in scanner: inout JSONScanner, closing: UInt8) -> Slot? {
        skipSeparator(&scanner)
        if bytes[scanner.position] == closing { return nil }
        return scanner.validatedValue()
    }

    /// The next member name of an object, past its `:`; nil at `}`.
    private func nextKey(in scanner: inout JSONScanner) -> Slot? {
        skipSeparator(&scanner)
        guard bytes[scanner.position] == UInt8(ascii: "\""), let key = try? scanner.string() else { return nil }
        scanner.skipWhitespace()
        scanner.position += 1
        return key
    }

    /// Skips whitespace and the `,` before the next element or member, if any.
    private func skipSeparator(_ scanner: inout JSONScanner) {
        scanner.skipWhitespace()
        if bytes[scanner.position] == UInt8(ascii: ",") {
            scanner.position += 1
            scanner.skipWhitespace()
        }
    }

    private func matches(_ key: Slot, start: Int, count: Int) -> Bool {
        let name = UnsafeBufferPointer(rebasing: names[start ..< start + count])
        let text = UnsafeBufferPointer(rebasing: bytes[key.start ..< key.end])
        if key.extra == 0 {
            return text.count == count && (count == 0 || memcmp(text.baseAddress!, name.baseAddress!, count) == 0)
        }
        return Array(JSONScanner.unescape(text).utf8).elementsEqual(name)
    }
}
