extension ViewValue {
    /// Whether key `a` sorts before key `b` as a primary key orders them in SQLite (BINARY
    /// collation) and in PostgreSQL (`COLLATE "C"`): column by column, null first, numbers by
    /// value, text by its UTF-8 bytes. Lets in-memory key ranges (a rebuild's window, tests)
    /// come out in the order a store returns them.
    public static func precedes(_ a: [ViewValue], _ b: [ViewValue]) -> Bool {
        for (x, y) in zip(a, b) {
            let order = x.compare(y)
            if order != 0 { return order < 0 }
        }
        return a.count < b.count
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
            let (xs, ys) = (Array(x.utf8), Array(y.utf8))
            return xs.lexicographicallyPrecedes(ys) ? -1 : xs == ys ? 0 : 1
        default:
            let (r, s) = (rank(self), rank(other))
            return r < s ? -1 : r == s ? 0 : 1
        }
    }
}
