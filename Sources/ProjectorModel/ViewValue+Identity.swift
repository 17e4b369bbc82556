import Foundation

extension ViewValue {
    /// Whether two stored values are the same to SQLite's BINARY collation: text by its UTF-8
    /// bytes (`==` on `String` also merges canonically equivalent texts, which are different keys
    /// and different cells in a table), reals with `0.0` equal to `-0.0`.
    public func isIdentical(to other: ViewValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.integer(let x), .integer(let y)): return x == y
        case (.real(let x), .real(let y)): return x == y
        case (.text(var x), .text(var y)):
            return x.withUTF8 { xs in
                y.withUTF8 { ys in
                    xs.count == ys.count && (xs.isEmpty || memcmp(xs.baseAddress!, ys.baseAddress!, xs.count) == 0)
                }
            }
        default: return false
        }
    }

    /// ``isIdentical(to:)`` for rows and keys; two absent rows are identical.
    public static func areIdentical(_ a: [ViewValue]?, _ b: [ViewValue]?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a.count == b.count && a.indices.allSatisfy { a[$0].isIdentical(to: b[$0]) }
    }

    /// Feeds `values` to `hasher` so that identical values (``isIdentical(to:)``) hash alike.
    public static func hashIdentity(of values: [ViewValue], into hasher: inout Hasher) {
        for index in values.indices {
            switch values[index] {
            case .null: hasher.combine(0 as UInt8)
            case .integer(let v): hasher.combine(1 as UInt8); hasher.combine(v)
            case .real(let v): hasher.combine(2 as UInt8); hasher.combine(v == 0 ? 0 : v.bitPattern)
            case .text(var text):
                hasher.combine(3 as UInt8)
                text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
                hasher.combine(0xFF as UInt8)
            }
        }
    }
}
