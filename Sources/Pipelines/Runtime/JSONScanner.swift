import Foundation

/// Malformed JSON, at a byte offset of the message.
struct JSONSyntaxError: Error {
    var message: String
    var offset: Int
}

/// A validating single-pass JSON scanner over a borrowed buffer. It records only the slots of the
/// trie and never builds a DOM; strings and numbers stay as byte ranges until an expression needs them.
struct JSONScanner {
    static let maximumDepth = 512

    /// The message. Its base address is read with `unsafelyUnwrapped`: every read is at an offset
    /// below `bytes.count`, so the buffer is not empty and the base is not nil, and the test of `!`
    /// at each inlined token cost ~40 instructions an event (`benchmarks/scanner/run`).
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    @inline(__always) private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    func error(_ message: String) -> JSONSyntaxError { JSONSyntaxError(message: message, offset: position) }

    /// Scans the whole document, filling `slots` for the trie's paths; returns the root's kind.
    mutating func scanDocument(trie: PathTrie, slots: UnsafeMutableBufferPointer<Slot>) throws(JSONSyntaxError) -> Slot.Kind {
        // `Slot.missing` is all zero bytes (`ScannerFastPathTests.zeroBytesAreAMissingSlot`): one
        // `memset` clears the slots, ~17 instructions an event fewer than a store per field.
        if let base = slots.baseAddress { memset(base, 0, slots.count &* MemoryLayout<Slot>.stride) }
        skipWhitespace()
        guard position < bytes.count else { throw error("empty value") }
        let root = try trie.flat.withView { (view) throws(JSONSyntaxError) -> Slot.Kind in
            view.entries.isEmpty ? try skipValue(depth: 0) : try value(node: 0, trie: view, slots: slots, depth: 0)
        }
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected data after the JSON value") }
        return root
    }

    /// Scans one value at trie node `node`, recording the slots of the paths that go through it;
    /// the members and elements no path enters are validated and skipped by ``skipValue(depth:)``.
    mutating func value(node: Int, trie: TrieView, slots: UnsafeMutableBufferPointer<Slot>, depth: Int) throws(JSONSyntaxError) -> Slot.Kind {
        guard depth <= Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth) levels") }
        guard position < bytes.count else { throw error("unexpected end of JSON") }
        let entry = trie.entries[node]
        var slot = Slot()
        slot.start = position
        switch bytes[position] {
        case UInt8(ascii: "{"):
            // The object's loop reads through a local copy of the scanner, written back around
            // the calls into `value` and at the end: `position` and the message stay in registers
            // across the inlined token reads instead of going through `self` (1,834 -> 1,798
            // instructions an event in `benchmarks/scanner/run`).
            var s = self
            s.position &+= 1
            slot.kind = .object
            if !s.consume(UInt8(ascii: "}")) {
                // The children with slots below them met so far in this object, a bit each (the
                // child's node modulo 64).
                var seen: UInt64 = 0
                while true {
                    guard s.isNext(UInt8(ascii: "\"")) else { throw s.error("expected a member name") }
                    let child = try s.memberChild(of: entry, trie)
                    if child >= 0 {
                        // Duplicate members: the last one wins, so forget what an earlier one set
                        // below it (a leaf's own slot is always overwritten). At a child's first
                        // member the slots below it are still missing (cleared by `scanDocument`,
                        // or by this rule in the parent), so only a child met before clears them;
                        // two children on one bit only clear slots that are missing already.
                        let childEntry = trie.entries[child]
                        if childEntry.hasSlotsBelow {
                            let bit: UInt64 = 1 &<< UInt64(child & 63)
                            if seen & bit != 0 {
                                var i = Int(childEntry.slotLower)
                                while i < Int(childEntry.slotUpper) { slots[i] = .missing; i &+= 1 }
                            }
                            seen |= bit
                        }
                        // A leaf's string or number is read in place (as `value` reads it), anything else by a call.
                        let c = s.position < s.bytes.count && depth < Self.maximumDepth ? s.bytes[s.position] : 0
                        if childEntry.isLeaf, c == UInt8(ascii: "\"") || Self.isDigit(c) || c == UInt8(ascii: "-") {
                            let leaf = c == UInt8(ascii: "\"") ? try s.string(blocks: 2) : try s.number()
                            if childEntry.slot >= 0 { slots[Int(childEntry.slot)] = leaf }
                        } else {
                            position = s.position
                            _ = try value(node: child, trie: trie, slots: slots, depth: depth + 1)
                            s.position = position
                        }
                    } else if depth < Self.maximumDepth, s.position < s.bytes.count, s.bytes[s.position] == UInt8(ascii: "\"") {
                        _ = try s.string()
                    } else {
                        _ = try s.skipValue(depth: depth + 1)
                    }
                    if s.consume(UInt8(ascii: ",")) { continue }
                    if s.consume(UInt8(ascii: "}")) { break }
                    throw s.error(s.position < s.bytes.count ? "expected `,` or `}` in an object" : "unexpected end of JSON in an object")
                }
            }
            position = s.position
        case UInt8(ascii: "["):
            position += 1
            slot.kind = .array
            slot.extra = try elements(of: entry, trie: trie, slots: slots, depth: depth)
        case UInt8(ascii: "\""):
            slot = try string()
        case UInt8(ascii: "t"):
            try literal(); slot.kind = .boolean; slot.extra = 1
        case UInt8(ascii: "f"):
            try literal(); slot.kind = .boolean
        case UInt8(ascii: "n"):
            try literal(); slot.kind = .null
        default:
            slot = try number()
        }
        if slot.kind != .string { slot.end = position }
        if entry.slot >= 0 { slots[Int(entry.slot)] = slot }
        return slot.kind
    }

    /// The elements of the array at `position` (past its `[`) at trie entry `entry`; returns their count.
    @inline(never)
    mutating func elements(of entry: FlatTrie.Entry, trie: TrieView, slots: UnsafeMutableBufferPointer<Slot>, depth: Int) throws(JSONSyntaxError) -> Int {
        var count = 0
        if !consume(UInt8(ascii: "]")) {
            while true {
                skipAnyWhitespace()
                var child = -1
                var i = Int(entry.indexStart)
                let end = i &+ Int(entry.indexCount)
                while i < end {
                    if trie.indexes[i].index == count { child = Int(trie.indexes[i].child); break }
                    i &+= 1
                }
                if child >= 0 {
                    _ = try value(node: child, trie: trie, slots: slots, depth: depth + 1)
                } else {
                    // Strings and numbers skipped in place (the depth limit checked as `skipValue`
                    // checks it), compact objects of scalars by `flatObjectEnd` (the `items` no path
                    // enters) without `skipValue`'s frame; a call only for the rest.
                    let c = depth < Self.maximumDepth && position < bytes.count ? bytes[position] : 0
                    if c == UInt8(ascii: "\"") {
                        _ = try string()
                    } else if Self.isDigit(c) || c == UInt8(ascii: "-") {
                        _ = try number()
                    } else if c == UInt8(ascii: "{"), depth &+ 1 < Self.maximumDepth,
                              case let end = Self.flatObjectEnd(bytes.baseAddress.unsafelyUnwrapped, from: position, count: bytes.count), end >= 0 {
                        position = end
                    } else {
                        _ = try skipValue(depth: depth + 1)
                    }
                }
                count += 1
                if consume(UInt8(ascii: ",")) { continue }
                if consume(UInt8(ascii: "]")) { break }
                throw error(position < bytes.count ? "expected `,` or `]` in an array" : "unexpected end of JSON in an array")
            }
        }
        return count
    }

    /// Scans the member name at `"`, its `:` and the whitespace after it; returns the trie child
    /// of `entry` it names, or -1.
    ///
    /// Where sixteen bytes follow the `"`, a name of up to fifteen bytes followed by its `:` is
    /// found by one 16-byte compare and matched by one more with each trie name of its length
    /// (`FlatTrie.byLength`), inline in the object's loop; any other (longer, escaped, non-ASCII, near the message's end, no `:`
    /// at once) is read again by ``memberChildByWords(of:_:)``, which also reports its errors.
    @inline(__always)
    private mutating func memberChild(of entry: FlatTrie.Entry, _ trie: TrieView) throws(JSONSyntaxError) -> Int {
        #if arch(x86_64) && !SCANNER_SWAR
        let start = position &+ 1
        let count = bytes.count
        if start &+ 16 <= count {
            let base = bytes.baseAddress.unsafelyUnwrapped
            let vector = Bytes16.load(base + start)
            let quotes = Bytes16.equal(vector, 0x22)
            let length = quotes.trailingZeroBitCount
            let after = start &+ length &+ 1
            if quotes != 0, after < count, base[after] == UInt8(ascii: ":") {
                let name: UInt32 = (1 &<< UInt32(length)) &- 1
                var child = -1
                let candidates = trie.byLength[Int(entry.lengthStart) &+ length]
                var i = Int(candidates.start)
                let end = i &+ Int(candidates.count)
                while i < end {
                    let m = trie.members[i]
                    if Bytes16.equal(vector, m.prefix, m.second) & name == name { child = Int(m.child); break }
                    i &+= 1
                }
                if child >= 0 || Bytes16.stringStops(vector) & name == 0 {
                    position = after &+ 1
                    skipAnyWhitespace()
                    return child
                }
            }
        }
        #endif
        return try memberChildByWords(of: entry, trie)
    }

    /// ``memberChild(of:_:)`` eight bytes at a time: the path of other architectures, of names
    /// the 16-byte path does not take, and of a message's last bytes.
    ///
    /// A name of up to fifteen bytes is read with two words at most: its end is the first `"`, and
    /// its length and bytes are compared with each member's before anything else is checked,
    /// since a name equal to a member's plain name (`FlatTrie.Member.plainCount`) is valid.
    #if arch(x86_64) && !SCANNER_SWAR
    @inline(never)
    #else
    @inline(__always)
    #endif
    private mutating func memberChildByWords(of entry: FlatTrie.Entry, _ trie: TrieView) throws(JSONSyntaxError) -> Int {
        let base = bytes.baseAddress.unsafelyUnwrapped
        let count = bytes.count
        let start = position &+ 1
        let word = SWAR.word(base, at: start, count: count)
        let quotes = SWAR.equal(word, 0x22)
        var next: UInt64 = 0
        var length = -1
        if quotes != 0 {
            length = SWAR.first(quotes)
        } else {
            next = SWAR.word(base, at: start &+ 8, count: count)
            let nextQuotes = SWAR.equal(next, 0x22)
            if nextQuotes != 0 { length = 8 &+ SWAR.first(nextQuotes) }
        }
        var child = -1
        if length >= 0 {
            // A name equal to a member's is valid as it stands; any other is checked for a `\`,
            // a control byte or UTF-8 before the quote, and read by `string()` if it has one.
            let prefix = length >= 8 ? word : word & Self.lowBytes(length)
            let second = length > 8 ? next & Self.lowBytes(length &- 8) : 0
            for i in Int(entry.memberStart) ..< Int(entry.memberStart &+ entry.memberCount) {
                let m = trie.members[i]
                if Int(m.plainCount) == length, m.prefix == prefix, m.second == second { child = Int(m.child); break }
            }
            if child < 0 {
                let stops = SWAR.stringStops(word) & (length >= 8 ? ~0 : Self.lowBytes(length) & SWAR.highs)
                    | (length > 8 ? SWAR.stringStops(next) & Self.lowBytes(length &- 8) & SWAR.highs : 0)
                if stops != 0 { length = -1 }
            }
        }
        if length >= 0 {
            position = start &+ length &+ 1
        } else {
            let key = try string()
            if entry.memberCount > 0 { child = member(key, of: entry, trie) }
        }
        guard consume(UInt8(ascii: ":")) else { throw error("expected `:` after a member name") }
        skipWhitespace()
        return child
    }

    /// The trie child of `entry` named by the member name `key` (a string slot), or -1.
    ///
    /// Names are compared as a length and a first word (eight bytes) before any `memcmp`.
    @inline(__always)
    private func member(_ key: Slot, of entry: FlatTrie.Entry, _ trie: TrieView) -> Int {
        let range = Int(entry.memberStart)..<Int(entry.memberStart + entry.memberCount)
        guard key.extra == 0 else {
            let decoded = Array(JSONScanner.unescape(UnsafeBufferPointer(rebasing: bytes[key.start..<key.end])).utf8)
            for i in range {
                let m = trie.members[i]
                if UnsafeBufferPointer(rebasing: trie.names[Int(m.nameStart)..<Int(m.nameStart + m.nameCount)]).elementsEqual(decoded) {
                    return Int(m.child)
                }
            }
            return -1
        }
        let count = key.end - key.start
        let name = bytes.baseAddress.unsafelyUnwrapped + key.start
        let word = Self.firstWord(name, count: count, readable: bytes.count - key.start)
        for i in range {
            let m = trie.members[i]
            if Int(m.nameCount) == count, m.prefix == word,
               count <= 8 || memcmp(name + 8, trie.names.baseAddress! + Int(m.nameStart) + 8, count - 8) == 0 {
                return Int(m.child)
            }
        }
        return -1
    }

    /// A mask of the low `count` bytes of a word (`count` below 8).
    @inline(__always)
    static func lowBytes(_ count: Int) -> UInt64 { (1 &<< UInt64(count &* 8)) &- 1 }

    /// The first `min(count, 8)` bytes at `name` as a little-endian word, zero above them; one
    /// load when `readable` bytes allow it.
    @inline(__always)
    static func firstWord(_ name: UnsafePointer<UInt8>, count: Int, readable: Int) -> UInt64 {
        if readable >= 8 {
            let word = UInt64(littleEndian: UnsafeRawPointer(name).loadUnaligned(as: UInt64.self))
            return count >= 8 ? word : word & ((1 &<< UInt64(count &* 8)) &- 1)
        }
        var word: UInt64 = 0
        for i in 0..<min(count, 8) { word |= UInt64(name[i]) &<< UInt64(i &* 8) }
        return word
    }

    /// Validates and skips one value that no path of the trie enters; returns its kind.
    mutating func skipValue(depth: Int) throws(JSONSyntaxError) -> Slot.Kind {
        guard depth <= Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth) levels") }
        guard position < bytes.count else { throw error("unexpected end of JSON") }
        switch bytes[position] {
        case UInt8(ascii: "{"):
            // The members' values are at `depth + 1`: inline only below the limit, as below.
            if depth < Self.maximumDepth {
                let end = Self.flatObjectEnd(bytes.baseAddress.unsafelyUnwrapped, from: position, count: bytes.count)
                if end >= 0 { position = end; return .object }
            }
            position += 1
            if consume(UInt8(ascii: "}")) { return .object }
            while true {
                guard isNext(UInt8(ascii: "\"")) else { throw error("expected a member name") }
                _ = try string()
                guard consume(UInt8(ascii: ":")) else { throw error("expected `:` after a member name") }
                skipAnyWhitespace()
                let c = depth < Self.maximumDepth && position < bytes.count ? bytes[position] : 0
                if c == UInt8(ascii: "\"") {
                    _ = try string()
                } else if Self.isDigit(c) || c == UInt8(ascii: "-") {
                    _ = try number()
                } else {
                    _ = try skipValue(depth: depth + 1)
                }
                if consume(UInt8(ascii: ",")) { continue }
                if consume(UInt8(ascii: "}")) { return .object }
                throw error(position < bytes.count ? "expected `,` or `}` in an object" : "unexpected end of JSON in an object")
            }
        case UInt8(ascii: "["):
            position += 1
            if consume(UInt8(ascii: "]")) { return .array }
            while true {
                skipAnyWhitespace()
                let c = depth < Self.maximumDepth && position < bytes.count ? bytes[position] : 0
                if c == UInt8(ascii: "\"") {
                    _ = try string()
                } else if Self.isDigit(c) || c == UInt8(ascii: "-") {
                    _ = try number()
                } else {
                    _ = try skipValue(depth: depth + 1)
                }
                if consume(UInt8(ascii: ",")) { continue }
                if consume(UInt8(ascii: "]")) { return .array }
                throw error(position < bytes.count ? "expected `,` or `]` in an array" : "unexpected end of JSON in an array")
            }
        case UInt8(ascii: "\""):
            _ = try string()
            return .string
        case UInt8(ascii: "t"):
            try literal()
            return .boolean
        case UInt8(ascii: "f"):
            try literal()
            return .boolean
        case UInt8(ascii: "n"):
            try literal()
            return .null
        default:
            _ = try number()
            return .number
        }
    }

    /// Checks the literal at `position` (`true`, `false` or `null`, told by its first byte) with one
    /// four-byte compare (``literalEnd(_:from:count:)``), and moves past it.
    private mutating func literal() throws(JSONSyntaxError) {
        let end = Self.literalEnd(bytes.baseAddress.unsafelyUnwrapped, from: position, count: bytes.count)
        guard end >= 0 else { throw error("invalid literal") }
        position = end
    }

    @inline(__always) private static func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }

    /// Scans a number at `position` (which is in the buffer).
    @inline(__always)
    mutating func number() throws(JSONSyntaxError) -> Slot {
        let base = bytes.baseAddress.unsafelyUnwrapped
        let count = bytes.count
        var slot = Slot(kind: .number, start: position, end: 0, extra: 1)
        var p = position
        if base[p] == UInt8(ascii: "-") { p += 1 }
        guard p < count, Self.isDigit(base[p]) else { position = p; throw error("invalid value") }
        p += 1
        if base[p - 1] != 0x30 {
            while p < count, Self.isDigit(base[p]) { p += 1 }
        }
        if p < count, base[p] == UInt8(ascii: ".") {
            p += 1
            slot.extra = 0
            guard p < count, Self.isDigit(base[p]) else { position = p; throw error("expected a digit after `.`") }
            while p < count, Self.isDigit(base[p]) { p += 1 }
        }
        if p < count, base[p] | 0x20 == UInt8(ascii: "e") {
            p += 1
            slot.extra = 0
            if p < count, base[p] == UInt8(ascii: "+") || base[p] == UInt8(ascii: "-") { p += 1 }
            guard p < count, Self.isDigit(base[p]) else { position = p; throw error("expected a digit in an exponent") }
            while p < count, Self.isDigit(base[p]) { p += 1 }
        }
        position = p
        slot.end = p
        return slot
    }
}
