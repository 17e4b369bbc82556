/// A finished trie as flat arrays of trivial values.
struct FlatTrie: Sendable {
    struct Entry: Sendable {
        var slot: Int32 = -1
        var slotLower: Int32 = 0
        var slotUpper: Int32 = 0
        var memberStart: Int32 = 0
        var memberCount: Int32 = 0
        var indexStart: Int32 = 0
        var indexCount: Int32 = 0
        /// Where the entry's sixteen `byLength` ranges start.
        var lengthStart: Int32 = 0
        /// A leaf: no members, no indexes below it.
        var isLeaf = false
        /// Slots below its own, which a duplicate member clears.
        var hasSlotsBelow = false
    }
    struct Member: Sendable {
        var nameStart: Int32
        var nameCount: Int32
        var child: Int32
        /// The name's first eight bytes as a little-endian word, zero above them (see `JSONScanner.firstWord`).
        var prefix: UInt64
        /// Its next eight bytes the same way (zero for names of eight bytes or fewer).
        var second: UInt64
        /// `nameCount` for a name of up to sixteen bytes that a document can hold as it stands
        /// (no `"`, `\` or control byte), so a name of the same bytes needs no other check; -1 otherwise.
        var plainCount: Int32
    }
    struct Index: Sendable {
        var index: Int32
        var child: Int32
    }
    /// The members of one entry whose `plainCount` is one length: `members[start ..< start + count]`.
    struct Members: Sendable {
        var start: Int32 = 0
        var count: Int32 = 0
    }
    var entries: [Entry] = []
    /// An entry's members, those with a `plainCount` ordered by it (the others last), so that a
    /// name of up to fifteen bytes is compared only with the members of its length.
    var members: [Member] = []
    var indexes: [Index] = []
    var names: [UInt8] = []
    /// Sixteen ranges an entry (from its `lengthStart`): for each length 0–15, its plain members of that length.
    var byLength: [Members] = []

    init() {}

    init(_ trie: PathTrie) {
        for node in trie.nodes {
            var entry = Entry()
            entry.slot = Int32(node.slot)
            entry.slotLower = Int32(node.slotRange.lowerBound)
            entry.slotUpper = Int32(node.slotRange.upperBound)
            entry.isLeaf = node.members.isEmpty && node.indexes.isEmpty
            entry.hasSlotsBelow = node.slotRange.count > (node.slot >= 0 ? 1 : 0)
            entry.memberStart = Int32(members.count)
            entry.memberCount = Int32(node.members.count)
            let ordered = node.members.enumerated().sorted { a, b in
                let (x, y) = (Self.plainCount(a.element.name), Self.plainCount(b.element.name))
                return (x < 0 ? Int.max : x, a.offset) < (y < 0 ? Int.max : y, b.offset)
            }.map(\.element)
            entry.lengthStart = Int32(byLength.count)
            byLength.append(contentsOf: repeatElement(Members(), count: 16))
            for (name, child) in ordered {
                let plain = Self.plainCount(name)
                if plain >= 0, plain < 16 {
                    let range = Int(entry.lengthStart) + plain
                    if byLength[range].count == 0 { byLength[range].start = Int32(members.count) }
                    byLength[range].count += 1
                }
                var prefix: UInt64 = 0, second: UInt64 = 0
                for (i, byte) in name.prefix(8).enumerated() { prefix |= UInt64(byte) << UInt64(i * 8) }
                for (i, byte) in name.dropFirst(8).prefix(8).enumerated() { second |= UInt64(byte) << UInt64(i * 8) }
                members.append(Member(nameStart: Int32(names.count), nameCount: Int32(name.count), child: Int32(child),
                                      prefix: prefix, second: second, plainCount: Int32(plain)))
                names.append(contentsOf: name)
            }
            entry.indexStart = Int32(indexes.count)
            entry.indexCount = Int32(node.indexes.count)
            for (index, child) in node.indexes { indexes.append(Index(index: Int32(index), child: Int32(child))) }
            entries.append(entry)
        }
    }

    /// The length of `name` when it has at most sixteen bytes and none is `"`, `\` or a control byte; -1 otherwise.
    static func plainCount(_ name: [UInt8]) -> Int {
        name.count <= 16 && !name.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) ? name.count : -1
    }

    /// Calls `body` with unmanaged views of the arrays (valid only inside `body`).
    func withView<R>(_ body: (TrieView) throws(JSONSyntaxError) -> R) throws(JSONSyntaxError) -> R {
        try entries.withUnsafeBufferPointer { (e) throws(JSONSyntaxError) -> R in
            try members.withUnsafeBufferPointer { (m) throws(JSONSyntaxError) -> R in
                try indexes.withUnsafeBufferPointer { (i) throws(JSONSyntaxError) -> R in
                    try names.withUnsafeBufferPointer { (n) throws(JSONSyntaxError) -> R in
                        try byLength.withUnsafeBufferPointer { (l) throws(JSONSyntaxError) -> R in
                            try body(TrieView(entries: e, members: m, indexes: i, names: n, byLength: l))
                        }
                    }
                }
            }
        }
    }
}

/// Unmanaged pointers into a `FlatTrie`; trivial to copy through the scanner's recursion.
struct TrieView {
    var entries: UnsafeBufferPointer<FlatTrie.Entry>
    var members: UnsafeBufferPointer<FlatTrie.Member>
    var indexes: UnsafeBufferPointer<FlatTrie.Index>
    var names: UnsafeBufferPointer<UInt8>
    var byLength: UnsafeBufferPointer<FlatTrie.Members>
}
