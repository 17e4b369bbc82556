/// Tests on eight bytes at a time (SWAR: SIMD within a register), on little-endian `UInt64` words
/// of a message. Each test sets the high bit of the bytes it flags; a flag can be false only above
/// a true one (a borrow runs upward), so the lowest flag of a word is always exact.
enum SWAR {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The eight bytes at `offset` of `base[0 ..< count]`; the bytes at or past `count` read as zero,
    /// which every scan treats as a stop (a control byte), so a word never runs past the message.
    @inline(__always)
    static func word(_ base: UnsafePointer<UInt8>, at offset: Int, count: Int) -> UInt64 {
        if offset &+ 8 <= count { return UInt64(littleEndian: UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self)) }
        return tailWord(base, at: offset, count: count)
    }

    /// The last, incomplete word: one load of the message's last eight bytes, shifted.
    @inline(never)
    static func tailWord(_ base: UnsafePointer<UInt8>, at offset: Int, count: Int) -> UInt64 {
        guard offset < count else { return 0 }
        if count >= 8 {
            let last = UInt64(littleEndian: UnsafeRawPointer(base + count - 8).loadUnaligned(as: UInt64.self))
            return last &>> UInt64((offset &+ 8 &- count) &* 8)
        }
        var word: UInt64 = 0
        for i in 0 ..< count - offset { word |= UInt64(base[offset + i]) &<< UInt64(i &* 8) }
        return word
    }

    /// Flags the bytes equal to `byte`.
    @inline(__always)
    static func equal(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let x = word ^ (ones &* UInt64(byte))
        return (x &- ones) & ~x & highs
    }

    /// Flags what ends a run of plain string text: `"`, `\`, a control byte (below 0x20, the zero
    /// bytes past the message's end included) and a byte of 0x80 or more (UTF-8 to check).
    /// `(word - 0x20…) | word` has the high bit of a byte below 0x20 or at 0x80 and above.
    @inline(__always)
    static func stringStops(_ word: UInt64) -> UInt64 {
        (equal(word, 0x22) | equal(word, 0x5C) | (word &- ones &* 0x20) | word) & highs
    }

    /// The byte index (0–7) of the lowest flag of a non-zero flag word.
    @inline(__always)
    static func first(_ flags: UInt64) -> Int { flags.trailingZeroBitCount &>> 3 }
}
