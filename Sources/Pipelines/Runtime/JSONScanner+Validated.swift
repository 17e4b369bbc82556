/// Values of a document the scanner has already validated (the `[*]` walk's), read again without
/// checking them: nothing here can fail on such a document.
extension JSONScanner {
    /// The value at `position` of a document the scanner has already validated, skipped without
    /// checking it again: its kind and extent, and what `string()` and `number()` give for
    /// scalars (the `extra` of objects and arrays is not counted).
    mutating func validatedValue() -> Slot? {
        let base = bytes.baseAddress.unsafelyUnwrapped
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

    /// Moves past the value at `position` of a validated document, finding only its end: a string
    /// by its closing quote (eight bytes a time, escapes stepped over), a number by the bytes it
    /// may hold, an object or array by its brackets outside strings.
    mutating func skipValidated() {
        let base = bytes.baseAddress.unsafelyUnwrapped
        let count = bytes.count
        switch base[position] {
        case UInt8(ascii: "\""):
            var escaped = 0
            position = Self.closingQuote(base, from: position &+ 1, count: count, escaped: &escaped) &+ 1
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var p = position
            while p < count {
                let c = base[p]
                if c == UInt8(ascii: "\"") {
                    var escaped = 0
                    p = Self.closingQuote(base, from: p &+ 1, count: count, escaped: &escaped) &+ 1
                    continue
                }
                if c | 0x20 == UInt8(ascii: "{") { depth &+= 1 } else if c | 0x20 == UInt8(ascii: "}") {
                    depth &-= 1
                    if depth == 0 { p &+= 1; break }
                }
                p &+= 1
            }
            position = p
        case UInt8(ascii: "t"), UInt8(ascii: "n"):
            position &+= 4
        case UInt8(ascii: "f"):
            position &+= 5
        default:
            var p = position &+ 1
            while p < count, Self.isNumberByte(base[p]) { p &+= 1 }
            position = p
        }
    }

    /// The offset of the closing quote of a validated string whose text begins at `from`, sixteen
    /// bytes a test where they remain, then eight; sets `escaped` to 1 when the text has a `\`.
    @inline(__always)
    private static func closingQuote(_ base: UnsafePointer<UInt8>, from: Int, count: Int, escaped: inout Int) -> Int {
        var p = from
        #if arch(x86_64) && !SCANNER_SWAR
        while p &+ 16 <= count {
            let stops = Bytes16.quotesOrBackslashes(Bytes16.load(base + p))
            if stops == 0 { p &+= 16; continue }
            p &+= stops.trailingZeroBitCount
            if base[p] == UInt8(ascii: "\"") { return p }
            escaped = 1
            p &+= 2
        }
        #endif
        while p < count {
            let word = SWAR.word(base, at: p, count: count)
            let stops = SWAR.equal(word, 0x22) | SWAR.equal(word, 0x5C)
            if stops == 0 { p &+= 8; continue }
            p &+= SWAR.first(stops)
            if base[p] == UInt8(ascii: "\"") { return p }
            escaped = 1
            p &+= 2
        }
        return count
    }

    /// Whether `c` can be part of a JSON number after its first byte: a digit, `.`, `e`, `E`, `+`, `-`.
    @inline(__always)
    private static func isNumberByte(_ c: UInt8) -> Bool {
        c &- 0x30 < 10 || c == UInt8(ascii: ".") || c | 0x20 == UInt8(ascii: "e") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-")
    }
}
