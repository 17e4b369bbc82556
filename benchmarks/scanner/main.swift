// Instructions of the JSON scan and of the `[*]` walk, counted apart by callgrind (`run`): the
// `orders` events of the demo stream, scanned with order_summary's paths, then
// `$.data.items[*].quantity` walked.

/// Adds what the walk reaches, so nothing is optimised away.
struct Sum: SlotVisitor {
    let bytes: UnsafeBufferPointer<UInt8>
    var total = 0

    mutating func visit(_ slot: Slot) throws(EventFailure) {
        total &+= slot.kind == .number ? Int(bytes[slot.start]) : 1000
    }
}

@inline(never) func scanOne(_ bytes: UnsafeBufferPointer<UInt8>, _ trie: PathTrie, _ slots: UnsafeMutableBufferPointer<Slot>) -> Int {
    var scanner = JSONScanner(bytes)
    do { return Int(try scanner.scanDocument(trie: trie, slots: slots).rawValue) } catch { return -1 }
}

@inline(never) func walkOne(_ bytes: UnsafeBufferPointer<UInt8>, _ walk: WildcardWalk, _ items: Slot) -> Int {
    var sum = Sum(bytes: bytes)
    try! walk.walk(from: items, in: bytes, &sum)
    return sum.total
}

let count = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 20_000
var buffer: [UInt8] = []
var offsets = [0]
for event in DemoStream(count: Int.max).lazy.filter({ $0.topic == "orders" }).prefix(count) {
    buffer.append(contentsOf: event.value.utf8)
    offsets.append(buffer.count)
}
func path(_ names: String...) -> JSONPath { JSONPath(components: names.map { .member($0) }) }
var trie = PathTrie()
let items = trie.insert(path("data", "items"))
for p in [path("eventType"), path("data", "orderId"), path("version"), path("data", "customerId"), path("data", "totalAmount"),
          path("data", "currency"), path("timestamp"), path("data", "carrier"), path("data", "amount")] {
    _ = trie.insert(p)
}
let itemsSlot = trie.finish()[items]
let walk = WildcardWalk([PathComponent.wildcard, .member("quantity")][...])
let slots = UnsafeMutableBufferPointer<Slot>.allocate(capacity: trie.slotCount)
var check = 0
buffer.withUnsafeBufferPointer { all in
    for i in 0 ..< offsets.count - 1 {
        let bytes = UnsafeBufferPointer(rebasing: all[offsets[i] ..< offsets[i + 1]])
        check &+= scanOne(bytes, trie, slots)
        if slots[itemsSlot].kind == .array { check &+= walkOne(bytes, walk, slots[itemsSlot]) }
    }
}
print("events \(offsets.count - 1) bytes \(buffer.count) check \(check)")
