import Foundation

extension ViewValue {
    /// A 64-bit hash of `values` under which identical keys (``isIdentical(to:)``: text by its
    /// UTF-8 bytes, `0.0` equal to `-0.0`) hash alike, with `seed` mixed in (a table number).
    ///
    /// Cheaper than feeding a `Hasher` (SipHash): integers are mixed directly and text eight
    /// bytes at a time, so a batch's change set can hash each key once and compare stored hashes
    /// before comparing keys. Where the keys come from events, pass a random per-process `seed`
    /// so that nobody can choose keys that collide.
    public static func identityHash(of values: UnsafeBufferPointer<ViewValue>, seed: UInt64 = 0) -> UInt64 {
        var hash = seed &+ 0x243F_6A88_85A3_08D3
        for index in values.indices {
            switch values[index] {
            case .null: hash = mix(hash, cell: .null)
            case .integer(let v): hash = mix(hash, cell: .integer(v))
            case .real(let v): hash = mix(hash, cell: .real(v))
            case .text(var text): hash = text.withUTF8 { mix(hash, cell: .text($0)) }
            }
        }
        return mix(hash, UInt64(values.count))
    }

    /// A key cell whose text is borrowed bytes (a value still in the message): what a change set
    /// hashes and compares to find a row the batch holds without making a `String` for its key.
    package enum Borrowed {
        case null
        case integer(Int64)
        case real(Double)
        /// UTF-8 text, valid while the message is.
        case text(UnsafeBufferPointer<UInt8>)
    }

    /// ``identityHash(of:seed:)`` of the values `cells` stand for (text by the same bytes).
    package static func identityHash(of cells: UnsafeBufferPointer<Borrowed>, seed: UInt64) -> UInt64 {
        var hash = seed &+ 0x243F_6A88_85A3_08D3
        for index in cells.indices { hash = mix(hash, cell: cells[index]) }
        return mix(hash, UInt64(cells.count))
    }

    /// ``isIdentical(to:)`` against the value `cell` stands for.
    package func isIdentical(to cell: Borrowed) -> Bool {
        switch (self, cell) {
        case (.null, .null): return true
        case (.integer(let x), .integer(let y)): return x == y
        case (.real(let x), .real(let y)): return x == y
        case (.text(var x), .text(let ys)):
            return x.withUTF8 { xs in xs.count == ys.count && (xs.isEmpty || memcmp(xs.baseAddress!, ys.baseAddress!, xs.count) == 0) }
        default: return false
        }
    }

    /// The identity hash of an array's values, equal to that of the same values in a buffer.
    public static func identityHash(of values: [ViewValue], seed: UInt64 = 0) -> UInt64 {
        values.withUnsafeBufferPointer { identityHash(of: $0, seed: seed) }
    }

    /// Folds one cell into `hash`: the one rule both hashes follow (kinds kept apart, `0.0` as `-0.0`,
    /// text by its UTF-8 bytes), so a key hashes alike as values or as borrowed bytes.
    @inline(__always)
    private static func mix(_ hash: UInt64, cell: Borrowed) -> UInt64 {
        switch cell {
        case .null: return mix(hash, 0x6E75_6C6C)
        case .integer(let v): return mix(hash ^ 1, UInt64(bitPattern: v))
        case .real(let v): return mix(hash ^ 2, v == 0 ? 0 : v.bitPattern)
        case .text(let bytes): return mix(hash ^ 3, bytes: bytes)
        }
    }

    /// Folds `word` into `hash`: the two halves of a 128-bit product xor-ed (as wyhash and mum do).
    @inline(__always)
    private static func mix(_ hash: UInt64, _ word: UInt64) -> UInt64 {
        let product = (hash ^ word).multipliedFullWidth(by: 0x9E37_79B9_7F4A_7C15)
        return product.high ^ product.low
    }

    /// Folds `bytes` and their count into `hash`, eight bytes at a time.
    @inline(__always)
    private static func mix(_ hash: UInt64, bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash = mix(hash, UInt64(bytes.count))
        guard let base = bytes.baseAddress else { return hash }
        let raw = UnsafeRawPointer(base)
        var offset = 0
        while offset + 8 <= bytes.count {
            hash = mix(hash, raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        if offset < bytes.count {
            var tail: UInt64 = 0
            for position in offset ..< bytes.count { tail = tail << 8 | UInt64(base[position]) }
            hash = mix(hash, tail)
        }
        return hash
    }
}
