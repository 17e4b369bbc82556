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

/// One walk's unmanaged view of its steps. It reads each value once: an array's elements and an
/// object's members are walked where they stand, each found value's end being where the next
/// one starts, instead of finding an element's end first and then reading it again.
private struct Walker {
    let bytes: UnsafeBufferPointer<UInt8>
    let steps: UnsafeBufferPointer<WildcardWalk.Step>
    let names: UnsafeBufferPointer<UInt8>

    /// Visits `slot` (a value the scan found) or what the steps reach below it.
    func visit<V: SlotVisitor>(_ slot: Slot, step: Int, _ visitor: inout V) throws(EventFailure) {
        guard step < steps.count else { try visitor.visit(slot); return }
        guard slot.kind == .array || slot.kind == .object else { return }
        var scanner = JSONScanner(bytes)
        scanner.position = slot.start
        try walk(&scanner, step: step, &visitor)
    }

    /// Visits what the steps from `step` reach in the value at the scanner's position, and leaves
    /// the scanner after that value.
    private func walk<V: SlotVisitor>(_ scanner: inout JSONScanner, step: Int, _ visitor: inout V) throws(EventFailure) {
        guard step < steps.count else {
            if let value = scanner.validatedValue() { try visitor.visit(value) }
            return
        }
        switch steps[step] {
        case .wildcard:
            guard bytes[scanner.position] == UInt8(ascii: "[") else { scanner.skipValidated(); return }
            scanner.position += 1
            while enter(&scanner, closing: UInt8(ascii: "]")) {
                try walk(&scanner, step: step + 1, &visitor)
            }
        case .index(let wanted):
            guard bytes[scanner.position] == UInt8(ascii: "[") else { scanner.skipValidated(); return }
            scanner.position += 1
            var index = 0
            while enter(&scanner, closing: UInt8(ascii: "]")) {
                if index == wanted { try walk(&scanner, step: step + 1, &visitor) } else { scanner.skipValidated() }
                index += 1
            }
        case .member(let start, let count):
            guard bytes[scanner.position] == UInt8(ascii: "{") else { scanner.skipValidated(); return }
            scanner.position += 1
            // The last duplicate wins: a leaf is kept as its slot, a value to walk further as its offset.
            let leaf = step + 1 == steps.count
            var found: Slot?
            var foundAt = -1
            while let key = nextKey(in: &scanner) {
                if matches(key, start: start, count: count) {
                    if leaf {
                        found = scanner.validatedValue()
                        continue
                    }
                    foundAt = scanner.position
                }
                scanner.skipValidated()
            }
            if let found { try visitor.visit(found) }
            if foundAt >= 0 {
                var inner = JSONScanner(bytes)
                inner.position = foundAt
                try walk(&inner, step: step + 1, &visitor)
            }
        }
    }

    /// Moves to the next element of an array (past whitespace and a `,`); false at the closing
    /// bracket, which it moves past.
    private func enter(_ scanner: inout JSONScanner, closing: UInt8) -> Bool {
        skipSeparator(&scanner)
        guard bytes[scanner.position] != closing else { scanner.position += 1; return false }
        return true
    }

    /// The next member name of an object, past its `:`; nil at `}`, which it moves past.
    private func nextKey(in scanner: inout JSONScanner) -> Slot? {
        skipSeparator(&scanner)
        guard bytes[scanner.position] == UInt8(ascii: "\""), let key = try? scanner.string(lastBlock: false) else {
            scanner.position += 1
            return nil
        }
        scanner.skipAnyWhitespace()
        scanner.position += 1
        scanner.skipAnyWhitespace()
        return key
    }

    /// Skips whitespace and the `,` before the next element or member, if any.
    private func skipSeparator(_ scanner: inout JSONScanner) {
        scanner.skipAnyWhitespace()
        if bytes[scanner.position] == UInt8(ascii: ",") {
            scanner.position += 1
            scanner.skipAnyWhitespace()
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
