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

    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    @inline(__always) private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    /// Skips JSON whitespace: one comparison when the next byte is not whitespace, the usual case.
    @inline(__always) mutating func skipWhitespace() {
        while position < bytes.count {
            let c = bytes[position]
            if c > 0x20 || (c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09) { return }
            position += 1
        }
    }

    private func error(_ message: String) -> JSONSyntaxError { JSONSyntaxError(message: message, offset: position) }

    /// Scans the whole document, filling `slots` for the trie's paths; returns the root's kind.
    mutating func scanDocument(trie: PathTrie, slots: UnsafeMutableBufferPointer<Slot>) throws(JSONSyntaxError) -> Slot.Kind {
        for i in slots.indices { slots[i] = .missing }
        skipWhitespace()
        guard position < bytes.count else { throw error("empty value") }
        let root = try trie.flat.withView { (view) throws(JSONSyntaxError) -> Slot.Kind in
            view.entries.isEmpty ? try skipValue(depth: 0) : try value(node: 0, trie: view, slots: slots, depth: 0).kind
        }
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected data after the JSON value") }
        return root
    }

    /// Scans one value at trie node `node`, recording the slots of the paths that go through it;
    /// the members and elements no path enters are validated and skipped by ``skipValue(depth:)``.
    mutating func value(node: Int, trie: TrieView, slots: UnsafeMutableBufferPointer<Slot>, depth: Int) throws(JSONSyntaxError) -> Slot {
        guard depth <= Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth) levels") }
        guard position < bytes.count else { throw error("unexpected end of JSON") }
        let entry = trie.entries[node]
        var slot = Slot()
        slot.start = position
        switch bytes[position] {
        case UInt8(ascii: "{"):
            position += 1
            slot.kind = .object
            skipWhitespace()
            if peek() == UInt8(ascii: "}") {
                position += 1
            } else {
                while true {
                    skipWhitespace()
                    guard peek() == UInt8(ascii: "\"") else { throw error("expected a member name") }
                    let key = try string()
                    skipWhitespace()
                    guard peek() == UInt8(ascii: ":") else { throw error("expected `:` after a member name") }
                    position += 1
                    skipWhitespace()
                    let child = entry.memberCount > 0 ? member(key, of: entry, trie) : -1
                    if child >= 0 {
                        // Duplicate members: the last one wins, so forget what an earlier one set.
                        let childEntry = trie.entries[child]
                        for s in Int(childEntry.slotLower)..<Int(childEntry.slotUpper) { slots[s] = .missing }
                        _ = try value(node: child, trie: trie, slots: slots, depth: depth + 1)
                    } else {
                        _ = try skipValue(depth: depth + 1)
                    }
                    skipWhitespace()
                    guard let d = peek() else { throw error("unexpected end of JSON in an object") }
                    position += 1
                    if d == UInt8(ascii: ",") { continue }
                    if d == UInt8(ascii: "}") { break }
                    position -= 1
                    throw error("expected `,` or `}` in an object")
                }
            }
        case UInt8(ascii: "["):
            position += 1
            slot.kind = .array
            skipWhitespace()
            var count = 0
            if peek() == UInt8(ascii: "]") {
                position += 1
            } else {
                while true {
                    skipWhitespace()
                    var child = -1
                    for i in Int(entry.indexStart)..<Int(entry.indexStart + entry.indexCount) where trie.indexes[i].index == count {
                        child = Int(trie.indexes[i].child)
                        break
                    }
                    if child >= 0 {
                        _ = try value(node: child, trie: trie, slots: slots, depth: depth + 1)
                    } else {
                        _ = try skipValue(depth: depth + 1)
                    }
                    count += 1
                    skipWhitespace()
                    guard let d = peek() else { throw error("unexpected end of JSON in an array") }
                    position += 1
                    if d == UInt8(ascii: ",") { continue }
                    if d == UInt8(ascii: "]") { break }
                    position -= 1
                    throw error("expected `,` or `]` in an array")
                }
            }
            slot.extra = count
        case UInt8(ascii: "\""):
            slot = try string()
        case UInt8(ascii: "t"):
            try literal("true"); slot.kind = .boolean; slot.extra = 1
        case UInt8(ascii: "f"):
            try literal("false"); slot.kind = .boolean
        case UInt8(ascii: "n"):
            try literal("null"); slot.kind = .null
        default:
            slot = try number()
        }
        if slot.kind != .string { slot.end = position }
        if entry.slot >= 0 { slots[Int(entry.slot)] = slot }
        return slot
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
        let name = bytes.baseAddress! + key.start
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
            position += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "}") { position += 1; return .object }
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw error("expected a member name") }
                _ = try string()
                skipWhitespace()
                guard peek() == UInt8(ascii: ":") else { throw error("expected `:` after a member name") }
                position += 1
                skipWhitespace()
                _ = try skipValue(depth: depth + 1)
                skipWhitespace()
                guard let d = peek() else { throw error("unexpected end of JSON in an object") }
                position += 1
                if d == UInt8(ascii: ",") { continue }
                if d == UInt8(ascii: "}") { return .object }
                position -= 1
                throw error("expected `,` or `}` in an object")
            }
        case UInt8(ascii: "["):
            position += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") { position += 1; return .array }
            while true {
                skipWhitespace()
                _ = try skipValue(depth: depth + 1)
                skipWhitespace()
                guard let d = peek() else { throw error("unexpected end of JSON in an array") }
                position += 1
                if d == UInt8(ascii: ",") { continue }
                if d == UInt8(ascii: "]") { return .array }
                position -= 1
                throw error("expected `,` or `]` in an array")
            }
        case UInt8(ascii: "\""):
            _ = try string()
            return .string
        case UInt8(ascii: "t"):
            try literal("true")
            return .boolean
        case UInt8(ascii: "f"):
            try literal("false")
            return .boolean
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default:
            _ = try number()
            return .number
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw error("invalid literal") }
        let p = word.utf8Start
        for i in 0..<count where bytes[position + i] != p[i] { throw error("invalid literal") }
        position += count
    }

    @inline(__always) private static func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }

    /// Scans a number at `position` (which is in the buffer).
    mutating func number() throws(JSONSyntaxError) -> Slot {
        let base = bytes.baseAddress!
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

    /// Scans a string at `"`; the slot spans the text between the quotes.
    ///
    /// Plain bytes are skipped eight at a time and or-ed together on the way (one instruction per
    /// word), so only a string that holds a byte of 0x80 or more is checked for well-formed UTF-8,
    /// once its end is known.
    mutating func string() throws(JSONSyntaxError) -> Slot {
        position += 1
        var slot = Slot(kind: .string, start: position, end: 0, extra: 0)
        let base = bytes.baseAddress!
        let count = bytes.count
        var seen: UInt64 = 0
        while position < count {
            position = Self.plainRun(base, from: position, count: count, seen: &seen)
            if position == count { break }
            // Byte by byte from there: the stop byte itself, or the last, incomplete word.
            var c = base[position]
            while c != UInt8(ascii: "\""), c != UInt8(ascii: "\\"), c >= 0x20 {
                seen |= UInt64(c)
                position += 1
                if position == count { throw error("unterminated string") }
                c = base[position]
            }
            if c == UInt8(ascii: "\"") {
                slot.end = position
                if seen & 0x8080_8080_8080_8080 != 0,
                   let invalid = Self.firstInvalidUTF8(base, from: slot.start, to: position) {
                    throw JSONSyntaxError(message: "invalid UTF-8 in a string", offset: invalid)
                }
                position += 1
                return slot
            }
            if c == UInt8(ascii: "\\") {
                slot.extra = 1
                position += 1
                guard let e = peek() else { break }
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 1
                case UInt8(ascii: "u"):
                    position += 1
                    for _ in 0..<4 {
                        guard let h = peek(), JSONScanner.hexValue(h) != nil else { throw error("invalid \\u escape") }
                        position += 1
                    }
                default:
                    throw error("invalid escape in a string")
                }
                continue
            }
            throw error("control character in a string")
        }
        throw error("unterminated string")
    }

    /// Skips plain string bytes eight at a time (SWAR): returns the position of the first `"`, `\`
    /// or control byte, or of the last, incomplete word when none comes before it. Every word
    /// loaded is or-ed into `seen`, the one holding the stop byte included (its bytes before the
    /// stop are part of the string).
    @inline(__always)
    static func plainRun(_ base: UnsafePointer<UInt8>, from start: Int, count: Int, seen: inout UInt64) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var position = start
        while position + 8 <= count {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            // A byte is flagged when it is zero (`"` or `\` after the xor) or below 0x20. Borrows
            // can flag only bytes above a truly flagged one, so the lowest flag is exact.
            let flags = ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (word &- ones &* 0x20) & ~word) & highs
            // The bytes after the stop byte are or-ed in too: at worst a UTF-8 check of a string
            // that did not need one, for one instruction instead of a mask.
            seen |= word
            if flags != 0 { return position + flags.trailingZeroBitCount >> 3 }
            position += 8
        }
        return position
    }
}

extension JSONScanner {
    /// The value at `position` of a document the scanner has already validated, skipped without
    /// checking it again: its kind and extent, and what `string()` and `number()` give for
    /// scalars (the `extra` of objects and arrays is not counted).
    mutating func validatedValue() -> Slot? {
        let base = bytes.baseAddress!
        let start = position
        switch base[position] {
        case UInt8(ascii: "\""):
            return try? string()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let kind: Slot.Kind = base[position] == UInt8(ascii: "{") ? .object : .array
            var depth = 0
            while position < bytes.count {
                switch base[position] {
                case UInt8(ascii: "\""):
                    guard (try? string()) != nil else { return nil }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        position += 1
                        return Slot(kind: kind, start: start, end: position, extra: 0)
                    }
                default:
                    break
                }
                position += 1
            }
            return nil
        case UInt8(ascii: "t"):
            position += 4
            return Slot(kind: .boolean, start: start, end: position, extra: 1)
        case UInt8(ascii: "f"):
            position += 5
            return Slot(kind: .boolean, start: start, end: position, extra: 0)
        case UInt8(ascii: "n"):
            position += 4
            return Slot(kind: .null, start: start, end: position, extra: 0)
        default:
            return try? number()
        }
    }
}
