/// String bodies: skipped sixteen bytes at a time on x86-64 (`Bytes16`, where sixteen remain) and
/// eight at a time otherwise (`SWAR`), with UTF-8 checked only where a byte of 0x80 or more stops
/// the run, so a block of plain ASCII text is one test.
extension JSONScanner {
    /// Scans a string at `"`; the slot spans the text between the quotes (`extra` 1 when it has escapes).
    ///
    /// A plain ASCII string that ends within the first sixteen bytes of its text costs one 16-byte
    /// test (two word tests without SSE2) and no call; longer ones go on in ``longString(from:start:)``.
    /// With `blocks` 2 (the leaves of the trie: timestamps are twenty bytes) a second 16-byte test
    /// comes before the call; a constant, folded where this is inlined. Within sixteen bytes of the
    /// end of a message of sixteen bytes or more, the message's last sixteen bytes are tested
    /// (`lastBlock`; the `[*]` walk, where the extra code costs more than it saves, reads words).
    @inline(__always)
    mutating func string(blocks: Int = 1, lastBlock: Bool = true) throws(JSONSyntaxError) -> Slot {
        let base = bytes.baseAddress.unsafelyUnwrapped
        let count = bytes.count
        let start = position &+ 1
        #if arch(x86_64) && !SCANNER_SWAR
        if start &+ 16 <= count {
            let stops = Bytes16.stringStops(Bytes16.load(base + start))
            var end = start &+ stops.trailingZeroBitCount
            if stops == 0 {
                guard blocks > 1, start &+ 32 <= count else { return try longString(from: start &+ 16, start: start) }
                let next = Bytes16.stringStops(Bytes16.load(base + (start &+ 16)))
                guard next != 0 else { return try longString(from: start &+ 32, start: start) }
                end = start &+ 16 &+ next.trailingZeroBitCount
            }
            guard base[end] == UInt8(ascii: "\"") else { return try longString(from: end, start: start) }
            position = end &+ 1
            return Slot(kind: .string, start: start, end: end, extra: 0)
        }
        if lastBlock, count >= 16 {
            // Near the message's end: its last sixteen bytes, the ones before `start` shifted out.
            let stops = Bytes16.stringStops(Bytes16.load(base + (count &- 16))) &>> UInt32(start &- (count &- 16))
            guard stops != 0 else { return try longString(from: count, start: start) }
            let end = start &+ stops.trailingZeroBitCount
            guard base[end] == UInt8(ascii: "\"") else { return try longString(from: end, start: start) }
            position = end &+ 1
            return Slot(kind: .string, start: start, end: end, extra: 0)
        }
        #endif
        var from = start
        for _ in 0 ..< 2 {
            let stops = SWAR.stringStops(SWAR.word(base, at: from, count: count))
            if stops != 0 {
                let end = from &+ SWAR.first(stops)
                if end < count, base[end] == UInt8(ascii: "\"") {
                    position = end &+ 1
                    return Slot(kind: .string, start: start, end: end, extra: 0)
                }
                return try longString(from: from, start: start)
            }
            from &+= 8
        }
        return try longString(from: from, start: start)
    }

    /// The rest of a string whose text begins at `start`, from `from` on: runs of plain bytes
    /// sixteen (or eight) at a time, then the byte that stopped the run.
    @inline(never)
    mutating func longString(from: Int, start: Int) throws(JSONSyntaxError) -> Slot {
        let base = bytes.baseAddress.unsafelyUnwrapped
        let count = bytes.count
        var p = from
        var escaped = 0
        while true {
            #if arch(x86_64) && !SCANNER_SWAR
            if p &+ 16 <= count {
                let stops = Bytes16.stringStops(Bytes16.load(base + p))
                if stops == 0 { p &+= 16; continue }
                p &+= stops.trailingZeroBitCount
            } else {
                let stops = SWAR.stringStops(SWAR.word(base, at: p, count: count))
                if stops == 0 { p &+= 8; continue }
                p &+= SWAR.first(stops)
            }
            #else
            let stops = SWAR.stringStops(SWAR.word(base, at: p, count: count))
            if stops == 0 { p &+= 8; continue }
            p &+= SWAR.first(stops)
            #endif
            guard p < count else { position = count; throw error("unterminated string") }
            let c = base[p]
            if c == UInt8(ascii: "\"") {
                position = p &+ 1
                return Slot(kind: .string, start: start, end: p, extra: escaped)
            }
            if c >= 0x80 {
                p = try Self.utf8Run(base, from: p, count: count)
            } else if c == UInt8(ascii: "\\") {
                escaped = 1
                p = try escape(at: p)
            } else {
                position = p
                throw error("control character in a string")
            }
        }
    }

    /// Checks the escape at `p` (a `\`) and returns the offset after it.
    private mutating func escape(at p: Int) throws(JSONSyntaxError) -> Int {
        let count = bytes.count
        guard p &+ 1 < count else { position = count; throw error("unterminated string") }
        switch bytes[p &+ 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return p &+ 2
        case UInt8(ascii: "u"):
            for k in p + 2 ..< p + 6 {
                guard k < count, JSONScanner.hexValue(bytes[k]) != nil else { position = min(k, count); throw error("invalid \\u escape") }
            }
            return p &+ 6
        default:
            position = p &+ 1
            throw error("invalid escape in a string")
        }
    }

    /// Checks the well-formed UTF-8 sequences (RFC 3629: no overlongs, no surrogates, nothing above
    /// U+10FFFF) from `p`, a byte of 0x80 or more, up to the next ASCII byte; returns its offset.
    static func utf8Run(_ base: UnsafePointer<UInt8>, from p: Int, count: Int) throws(JSONSyntaxError) -> Int {
        var i = p
        while i < count, base[i] >= 0x80 {
            let length = sequenceLength(base, at: i, count: count)
            guard length > 0 else { throw JSONSyntaxError(message: "invalid UTF-8 in a string", offset: i) }
            i &+= length
        }
        return i
    }

    /// The length of the well-formed UTF-8 sequence at `i` (a byte of 0x80 or more), or 0.
    static func sequenceLength(_ base: UnsafePointer<UInt8>, at i: Int, count: Int) -> Int {
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch base[i] {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return 0
        }
        guard i + length <= count, base[i + 1] >= low, base[i + 1] <= high else { return 0 }
        for k in 2 ..< length where base[i + k] & 0xC0 != 0x80 { return 0 }
        return length
    }
}
