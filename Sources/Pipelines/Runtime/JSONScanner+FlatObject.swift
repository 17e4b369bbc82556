/// Skipped objects of scalars in compact JSON (`{"sku":"SKU-RED","quantity":1,"price":12.34}`, the
/// `items` no path enters), validated in one loop over local offsets instead of token by token
/// through `position`.
///
/// The loop only accepts: any byte it does not expect (whitespace, a nested object or array, an
/// escape or a non-ASCII byte in a string, a malformed number or literal, the message's end)
/// makes it give up, and ``skipValue(depth:)`` reads the object again from its `{`. What it accepts
/// is exactly what `skipValue` accepts, so errors keep their messages and offsets.
extension JSONScanner {
    /// The offset after the object whose `{` is at `from`, when it is compact and holds only
    /// plain ASCII strings, numbers and literals; -1 otherwise.
    static func flatObjectEnd(_ base: UnsafePointer<UInt8>, from: Int, count: Int) -> Int {
        var p = from &+ 1
        guard p < count else { return -1 }
        if base[p] == UInt8(ascii: "}") { return p &+ 1 }
        while true {
            guard base[p] == UInt8(ascii: "\"") else { return -1 }
            #if arch(x86_64) && !SCANNER_SWAR
            // A name of up to thirteen bytes, its `:` and the value's first byte in the sixteen
            // bytes after its `"`: the value's string end or digits come from the same load.
            if p &+ 17 <= count {
                let block = p &+ 1
                let vector = Bytes16.load(base + block)
                let stops = Bytes16.stringStops(vector)
                let n = stops.trailingZeroBitCount
                if n <= 13, base[block &+ n] == UInt8(ascii: "\""), base[block &+ n &+ 1] == UInt8(ascii: ":") {
                    let k = n &+ 2
                    let c = base[block &+ k]
                    if c == UInt8(ascii: "\"") {
                        let after = stops &>> UInt32(k &+ 1)
                        if after == 0 {
                            p = plainStringEnd(base, from: block &+ 16, count: count)
                        } else {
                            let end = block &+ k &+ 1 &+ after.trailingZeroBitCount
                            p = base[end] == UInt8(ascii: "\"") ? end &+ 1 : -1
                        }
                    } else if c &- 0x30 < 10 || c == UInt8(ascii: "-") {
                        p = numberEnd(base, block: block, digits: Bytes16.digits(vector), at: k)
                        if p < 0 { p = numberEnd(base, from: block &+ k, count: count) }
                    } else {
                        p = literalEnd(base, from: block &+ k, count: count)
                    }
                    guard p >= 0, p < count else { return -1 }
                    let separator = base[p]
                    p &+= 1
                    if separator == UInt8(ascii: "}") { return p }
                    guard separator == UInt8(ascii: ","), p < count else { return -1 }
                    continue
                }
            }
            #endif
            p = plainStringEnd(base, from: p &+ 1, count: count)
            guard p >= 0, p &+ 1 < count, base[p] == UInt8(ascii: ":") else { return -1 }
            p &+= 1
            let c = base[p]
            if c == UInt8(ascii: "\"") {
                p = plainStringEnd(base, from: p &+ 1, count: count)
            } else if c &- 0x30 < 10 || c == UInt8(ascii: "-") {
                p = numberEnd(base, from: p, count: count)
            } else {
                p = literalEnd(base, from: p, count: count)
            }
            guard p >= 0, p < count else { return -1 }
            let separator = base[p]
            p &+= 1
            if separator == UInt8(ascii: "}") { return p }
            guard separator == UInt8(ascii: ","), p < count else { return -1 }
        }
    }

    /// The offset after the closing quote of a string of plain ASCII text (no `\`, no control
    /// byte, nothing of 0x80 or more) starting at `from`; -1 for any other string.
    @inline(__always)
    static func plainStringEnd(_ base: UnsafePointer<UInt8>, from: Int, count: Int) -> Int {
        var p = from
        #if arch(x86_64) && !SCANNER_SWAR
        while p &+ 16 <= count {
            let stops = Bytes16.stringStops(Bytes16.load(base + p))
            if stops != 0 {
                p &+= stops.trailingZeroBitCount
                return base[p] == UInt8(ascii: "\"") ? p &+ 1 : -1
            }
            p &+= 16
        }
        #endif
        return plainStringEndByWords(base, from: p, count: count)
    }

    /// ``plainStringEnd(_:from:count:)`` eight bytes at a time: the path of other architectures and
    /// of a message's last fifteen bytes, out of line on x86-64 so that its constants and registers
    /// stay out of the object's loop.
    #if arch(x86_64) && !SCANNER_SWAR
    @inline(never)
    #else
    @inline(__always)
    #endif
    static func plainStringEndByWords(_ base: UnsafePointer<UInt8>, from: Int, count: Int) -> Int {
        var p = from
        while true {
            let stops = SWAR.stringStops(SWAR.word(base, at: p, count: count))
            if stops != 0 {
                p &+= SWAR.first(stops)
                return p < count && base[p] == UInt8(ascii: "\"") ? p &+ 1 : -1
            }
            p &+= 8
        }
    }

    /// The offset after the valid number starting at `from` (a digit or `-`), by `number()`'s
    /// grammar; -1 where `number()` would throw.
    @inline(__always)
    static func numberEnd(_ base: UnsafePointer<UInt8>, from: Int, count: Int) -> Int {
        var p = from
        if base[p] == UInt8(ascii: "-") { p &+= 1 }
        guard p < count, base[p] &- 0x30 < 10 else { return -1 }
        p &+= 1
        if base[p &- 1] != 0x30 {
            while p < count, base[p] &- 0x30 < 10 { p &+= 1 }
        }
        if p < count, base[p] == UInt8(ascii: ".") {
            p &+= 1
            guard p < count, base[p] &- 0x30 < 10 else { return -1 }
            while p < count, base[p] &- 0x30 < 10 { p &+= 1 }
        }
        if p < count, base[p] | 0x20 == UInt8(ascii: "e") {
            p &+= 1
            if p < count, base[p] == UInt8(ascii: "+") || base[p] == UInt8(ascii: "-") { p &+= 1 }
            guard p < count, base[p] &- 0x30 < 10 else { return -1 }
            while p < count, base[p] &- 0x30 < 10 { p &+= 1 }
        }
        return p
    }

    #if arch(x86_64) && !SCANNER_SWAR
    /// The offset after the number at index `k` of the sixteen bytes at `block` (`digits` their
    /// digit mask), found by `tzcnt` on the mask, when it ends inside them and has no exponent;
    /// -1 otherwise, valid or not, for ``numberEnd(_:from:count:)`` to decide byte by byte.
    @inline(__always)
    static func numberEnd(_ base: UnsafePointer<UInt8>, block: Int, digits: UInt32, at k: Int) -> Int {
        // Bits 16 and up set: a run of digits stops at the block's end at the latest.
        let others = ~digits
        var i = base[block &+ k] == UInt8(ascii: "-") ? k &+ 1 : k
        guard i < 16, (digits &>> UInt32(i)) & 1 != 0 else { return -1 }
        i = base[block &+ i] == UInt8(ascii: "0") ? i &+ 1 : i &+ (others &>> UInt32(i)).trailingZeroBitCount
        guard i < 16 else { return -1 }
        if base[block &+ i] == UInt8(ascii: ".") {
            let fraction = (others &>> UInt32(i &+ 1)).trailingZeroBitCount
            guard fraction > 0, i &+ 1 &+ fraction < 16 else { return -1 }
            i &+= 1 &+ fraction
        }
        guard base[block &+ i] | 0x20 != UInt8(ascii: "e") else { return -1 }
        return block &+ i
    }
    #endif

    /// The offset after the literal `true`, `false` or `null` at `from` (in the buffer), told by
    /// its first byte and checked with one four-byte compare; -1 for anything else.
    @inline(__always)
    static func literalEnd(_ base: UnsafePointer<UInt8>, from: Int, count: Int) -> Int {
        let first = base[from]
        // "true", "fals" and "null" as little-endian words.
        let expected: UInt32 = first == UInt8(ascii: "t") ? 0x6575_7274 : first == UInt8(ascii: "f") ? 0x736C_6166 : 0x6C6C_756E
        let length = first == UInt8(ascii: "f") ? 5 : 4
        guard first == UInt8(ascii: "t") || first == UInt8(ascii: "f") || first == UInt8(ascii: "n"), from &+ length <= count,
              UInt32(littleEndian: UnsafeRawPointer(base + from).loadUnaligned(as: UInt32.self)) == expected,
              length == 4 || base[from &+ 4] == UInt8(ascii: "e") else { return -1 }
        return from &+ length
    }
}
