/// A path trie: the paths a pipeline reads, so one scan of a message fills every slot it needs
/// and skips (while validating) every subtree it does not.
struct PathTrie: Sendable {
    struct Node: Sendable {
        var slot = -1
        var members: [(name: [UInt8], child: Int)] = []
        var indexes: [(index: Int, child: Int)] = []
        /// The slots of this node and every node below it (cleared when a duplicate member is seen).
        var slotRange: Range<Int> = 0..<0
    }
    var nodes: [Node] = [Node()]
    var slotCount = 0
    /// The trie in plain-old-data arrays, built by `finish()`, so a scan does no reference counting.
    var flat = FlatTrie()

    /// Adds a path (without wildcards) and returns its slot.
    mutating func insert(_ path: JSONPath) -> Int {
        var node = 0
        for component in path.components {
            switch component {
            case .member(let name):
                let bytes = Array(name.utf8)
                if let existing = nodes[node].members.first(where: { $0.name == bytes }) {
                    node = existing.child
                } else {
                    nodes.append(Node())
                    nodes[node].members.append((bytes, nodes.count - 1))
                    node = nodes.count - 1
                }
            case .index(let i):
                if let existing = nodes[node].indexes.first(where: { $0.index == i }) {
                    node = existing.child
                } else {
                    nodes.append(Node())
                    nodes[node].indexes.append((i, nodes.count - 1))
                    node = nodes.count - 1
                }
            case .wildcard:
                preconditionFailure("wildcard paths are walked by WildcardWalk, not scanned into slots")
            }
        }
        if nodes[node].slot < 0 {
            nodes[node].slot = slotCount
            slotCount += 1
        }
        return nodes[node].slot
    }

    /// Renumbers slots in depth-first order so each subtree owns a contiguous slot range.
    /// Returns the map old slot → new slot.
    mutating func finish() -> [Int] {
        var map = Array(repeating: -1, count: slotCount)
        var next = 0
        func visit(_ n: Int) {
            let lower = next
            if nodes[n].slot >= 0 {
                map[nodes[n].slot] = next
                nodes[n].slot = next
                next += 1
            }
            for (_, child) in nodes[n].members { visit(child) }
            for (_, child) in nodes[n].indexes { visit(child) }
            nodes[n].slotRange = lower..<next
        }
        visit(0)
        flat = FlatTrie(self)
        return map
    }
}
