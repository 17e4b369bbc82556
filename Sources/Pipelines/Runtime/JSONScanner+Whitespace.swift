/// Whitespace and the structural bytes between tokens: in compact JSON (no whitespace at all) each
/// of these is one compare of the next byte.
extension JSONScanner {
    /// Skips JSON whitespace: one comparison when the next byte is not whitespace, the usual case.
    @inline(__always) mutating func skipWhitespace() {
        while position < bytes.count {
            let c = bytes[position]
            if c > 0x20 || (c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09) { return }
            position += 1
        }
    }

    /// ``skipWhitespace()`` behind one test of the next byte, for the sites where the compiler
    /// otherwise sets up the loop before its first test (`benchmarks/scanner/run` counts it).
    @inline(__always) mutating func skipAnyWhitespace() {
        if position >= bytes.count || bytes[position] <= 0x20 { skipWhitespace() }
    }

    /// Moves past `byte` when it comes next, after any whitespace, and returns true; otherwise
    /// stops at the first byte that is not whitespace. One compare when `byte` follows at once.
    @inline(__always) mutating func consume(_ byte: UInt8) -> Bool {
        if position < bytes.count, bytes[position] == byte { position &+= 1; return true }
        skipWhitespace()
        if position < bytes.count, bytes[position] == byte { position &+= 1; return true }
        return false
    }

    /// Whether `byte` comes next after any whitespace (which it skips); does not move past it.
    @inline(__always) mutating func isNext(_ byte: UInt8) -> Bool {
        if position < bytes.count, bytes[position] == byte { return true }
        skipWhitespace()
        return position < bytes.count && bytes[position] == byte
    }
}
