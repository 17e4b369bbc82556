#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

extension ViewValue {
    /// Whether key `a` sorts before key `b` as a primary key orders them in SQLite (BINARY
    /// collation) and in PostgreSQL (`COLLATE "C"`): column by column, null first, numbers by
    /// value, text by its UTF-8 bytes. Lets in-memory key ranges (a rebuild's window, tests)
    /// come out in the order a store returns them.
    public static func precedes(_ a: [ViewValue], _ b: [ViewValue]) -> Bool { order(a, b) < 0 }

    /// -1, 0 or 1 as key `a` sorts before, with or after key `b` in that order
    /// (``precedes(_:_:)``; https://sqlite.org/datatype3.html#sort_order): what merges rows two
    /// stores return sorted by key (`projector verify`'s digests).
    package static func order(_ a: [ViewValue], _ b: [ViewValue]) -> Int {
        for index in 0 ..< min(a.count, b.count) {
            let order = a[index].compare(b[index])
            if order != 0 { return order }
        }
        return a.count < b.count ? -1 : a.count == b.count ? 0 : 1
    }

    /// -1, 0 or 1 as `self` sorts before, with or after `other`.
    private func compare(_ other: ViewValue) -> Int {
        func rank(_ v: ViewValue) -> Int {
            switch v {
            case .null: return 0
            case .integer, .real: return 1
            case .text: return 2
            }
        }
        switch (self, other) {
        case (.integer(let x), .integer(let y)): return x < y ? -1 : x == y ? 0 : 1
        case (.integer(let x), .real(let y)): return Double(x) < y ? -1 : Double(x) == y ? 0 : 1
        case (.real(let x), .integer(let y)): return x < Double(y) ? -1 : x == Double(y) ? 0 : 1
        case (.real(let x), .real(let y)): return x < y ? -1 : x == y ? 0 : 1
        case (.text(let x), .text(let y)):
            return Self.compareUTF8(x, y)
        default:
            let (r, s) = (rank(self), rank(other))
            return r < s ? -1 : r == s ? 0 : 1
        }
    }

    /// -1, 0 or 1 as `x`'s UTF-8 bytes sort before, with or after `y`'s, without copying them.
    private static func compareUTF8(_ x: String, _ y: String) -> Int {
        let order = x.utf8.withContiguousStorageIfAvailable { xs in
            y.utf8.withContiguousStorageIfAvailable { ys -> Int in
                let common = min(xs.count, ys.count)
                if common > 0, case let order = memcmp(xs.baseAddress!, ys.baseAddress!, common), order != 0 { return order < 0 ? -1 : 1 }
                return xs.count < ys.count ? -1 : xs.count == ys.count ? 0 : 1
            }
        }
        if let order = order ?? nil { return order }
        return x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : x.utf8.elementsEqual(y.utf8) ? 0 : 1
    }

    /// A fixed-size stand-in for the value's place in key order: its kind (null, number, text)
    /// and 128 bits that order as the value does — a number as a `Double`, text by its first 16
    /// UTF-8 bytes. Values with the same prefix may differ (text longer than 16 bytes, integers
    /// past 2^53), so it orders exactly only where it differs; it lets a sort of many keys
    /// (a rebuild's window) compare integers instead of following each key to its storage.
    package var orderPrefix: (rank: UInt8, high: UInt64, low: UInt64) {
        switch self {
        case .null: return (0, 0, 0)
        case .integer(let value): return (1, Self.orderBits(Double(value)), 0)
        case .real(let value): return (1, Self.orderBits(value), 0)
        case .text(let text):
            var high: UInt64 = 0
            var low: UInt64 = 0
            var index = 0
            for byte in text.utf8 {
                if index < 8 {
                    high |= UInt64(byte) << (56 - 8 * index)
                } else {
                    low |= UInt64(byte) << (56 - 8 * (index - 8))
                }
                index += 1
                if index == 16 { break }
            }
            return (2, high, low)
        }
    }

    /// A double's bits turned so that unsigned order is numeric order (negatives flipped whole,
    /// positives with the sign bit set); -0.0 and 0.0 alike.
    private static func orderBits(_ value: Double) -> UInt64 {
        let bits = (value == 0 ? 0.0 : value).bitPattern
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }
}
