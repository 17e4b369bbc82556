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

    @inline(__always) mutating func skipWhitespace() {
        while position < bytes.count {
            let c = bytes[position]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { position += 1 } else { return }
        }
    }

    private func error(_ message: String) -> JSONSyntaxError { JSONSyntaxError(message: message, offset: position) }

    /// Scans the whole document, filling `slots` for the trie's paths; returns the root's kind.
    mutating func scanDocument(trie: PathTrie, slots: UnsafeMutableBufferPointer<Slot>) throws(JSONSyntaxError) -> Slot.Kind {
        for i in slots.indices { slots[i] = .missing }
        skipWhitespace()
        guard position < bytes.count else { throw error("empty value") }
        let root = try trie.flat.withView { (view) throws(JSONSyntaxError) -> Slot in
            try value(node: view.entries.isEmpty ? -1 : 0, trie: view, slots: slots, depth: 0)
        }
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected data after the JSON value") }
        return root.kind
    }

    /// Scans one value; `node` is the trie node at this position, or -1 when no path goes here.
    mutating func value(node: Int, trie: TrieView, slots: UnsafeMutableBufferPointer<Slot>, depth: Int) throws(JSONSyntaxError) -> Slot {
        guard depth <= Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth) levels") }
        guard let c = peek() else { throw error("unexpected end of JSON") }
        var slot = Slot()
        slot.start = position
        switch c {
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
                    var child = -1
                    if node >= 0 {
                        let entry = trie.entries[node]
                        if entry.memberCount > 0 {
                            let range = Int(entry.memberStart)..<Int(entry.memberStart + entry.memberCount)
                            if key.extra == 0 {
                                let count = key.end - key.start
                                let name = bytes.baseAddress! + key.start
                                for i in range {
                                    let m = trie.members[i]
                                    if Int(m.nameCount) == count, memcmp(name, trie.names.baseAddress! + Int(m.nameStart), count) == 0 {
                                        child = Int(m.child)
                                        break
                                    }
                                }
                            } else {
                                let decoded = Array(JSONScanner.unescape(UnsafeBufferPointer(rebasing: bytes[key.start..<key.end])).utf8)
                                for i in range {
                                    let m = trie.members[i]
                                    if UnsafeBufferPointer(rebasing: trie.names[Int(m.nameStart)..<Int(m.nameStart + m.nameCount)]).elementsEqual(decoded) {
                                        child = Int(m.child)
                                        break
                                    }
                                }
                            }
                        }
                    }
                    if child >= 0 {
                        // Duplicate members: the last one wins, so forget what an earlier one set.
                        let entry = trie.entries[child]
                        for s in Int(entry.slotLower)..<Int(entry.slotUpper) { slots[s] = .missing }
                    }
                    _ = try value(node: child, trie: trie, slots: slots, depth: depth + 1)
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
                    if node >= 0 {
                        let entry = trie.entries[node]
                        for i in Int(entry.indexStart)..<Int(entry.indexStart + entry.indexCount) where trie.indexes[i].index == count {
                            child = Int(trie.indexes[i].child)
                            break
                        }
                    }
                    _ = try value(node: child, trie: trie, slots: slots, depth: depth + 1)
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
        if node >= 0, trie.entries[node].slot >= 0 { slots[Int(trie.entries[node].slot)] = slot }
        return slot
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw error("invalid literal") }
        let p = word.utf8Start
        for i in 0..<count where bytes[position + i] != p[i] { throw error("invalid literal") }
        position += count
    }

    mutating func number() throws(JSONSyntaxError) -> Slot {
        var slot = Slot(kind: .number, start: position, end: 0, extra: 1)
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), first >= 0x30 && first <= 0x39 else { throw error("invalid value") }
        position += 1
        if first != 0x30 {
            while let d = peek(), d >= 0x30 && d <= 0x39 { position += 1 }
        }
        if peek() == UInt8(ascii: ".") {
            position += 1
            slot.extra = 0
            guard let d = peek(), d >= 0x30 && d <= 0x39 else { throw error("expected a digit after `.`") }
            while let d = peek(), d >= 0x30 && d <= 0x39 { position += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            slot.extra = 0
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let d = peek(), d >= 0x30 && d <= 0x39 else { throw error("expected a digit in an exponent") }
            while let d = peek(), d >= 0x30 && d <= 0x39 { position += 1 }
        }
        slot.end = position
        return slot
    }

    /// Scans a string at `"`; the slot spans the text between the quotes.
    ///
    /// The bytes are or-ed together on the way (one instruction per word), so only a string that
    /// holds a byte of 0x80 or more is checked for well-formed UTF-8, once its end is known.
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
            if c < 0x20 { throw error("control character in a string") }
            position += 1
        }
        throw error("unterminated string")
    }

    /// Skips plain string bytes eight at a time (SWAR): returns the position of the first `"`, `\`
    /// or control byte, or of the last, incomplete word when none comes before it.
    /// Every word skipped is or-ed into `seen`.
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
            if flags != 0 { return position + flags.trailingZeroBitCount >> 3 }
            seen |= word
            position += 8
        }
        return position
    }

    /// The offset of the first byte of `base[start..<end]` that does not begin a well-formed UTF-8
    /// sequence (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), or nil.
    static func firstInvalidUTF8(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int? {
        var i = start
        while i < end {
            let b0 = base[i]
            if b0 < 0x80 { i += 1; continue }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch b0 {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return i
            }
            guard i + length <= end, base[i + 1] >= low, base[i + 1] <= high else { return i }
            for k in 2..<length where base[i + k] & 0xC0 != 0x80 { return i }
            i += length
        }
        return nil
    }

    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c - 0x30)
        case 0x41...0x46: return UInt32(c - 0x41 + 10)
        case 0x61...0x66: return UInt32(c - 0x61 + 10)
        default: return nil
        }
    }

    /// Decodes a validated string body with escapes (surrogate pairs joined; a lone surrogate
    /// becomes U+FFFD, as does invalid UTF-8).
    static func unescape(_ body: UnsafeBufferPointer<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        var i = 0
        func hex4(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<4 { v = v << 4 | (hexValue(body[at + k]) ?? 0) }
            return v
        }
        func append(_ scalar: UInt32) {
            let s = Unicode.Scalar(scalar) ?? "\u{FFFD}"
            out.append(contentsOf: String(Character(s)).utf8)
        }
        while i < body.count {
            let c = body[i]
            guard c == UInt8(ascii: "\\"), i + 1 < body.count else { out.append(c); i += 1; continue }
            let e = body[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard i + 4 <= body.count else { append(0xFFFD); continue }
                let unit = hex4(i)
                i += 4
                if unit >= 0xD800 && unit < 0xDC00, i + 6 <= body.count, body[i] == UInt8(ascii: "\\"), body[i + 1] == UInt8(ascii: "u") {
                    let low = hex4(i + 2)
                    if low >= 0xDC00 && low < 0xE000 {
                        i += 6
                        append(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                        continue
                    }
                }
                append(unit >= 0xD800 && unit < 0xE000 ? 0xFFFD : unit)
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
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
