// Differential check of two versions of the scanner: demo `orders` events and a few documents
// dense with escapes, brackets and deep nesting, mutated (truncation, deletions, inserted quotes,
// escapes, control bytes, brackets, broken UTF-8) by a fixed seed, scanned with order_summary's
// paths and walked with five `[*]` paths; one line per document (`run` compares the two outputs).
// Each document is scanned where its last byte is the last readable one before an unmapped page,
// so a read past its end crashes the run.
import Glibc

struct Collect: SlotVisitor {
    var out: [String] = []
    mutating func visit(_ slot: Slot) throws(EventFailure) { out.append("\(slot.kind.rawValue):\(slot.start)-\(slot.end)/\(slot.extra)") }
}
struct Rng { var s: UInt64; mutating func next() -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s } }
let total = Int(CommandLine.arguments[1])!
var rng = Rng(s: 0x9E37_79B9_7F4A_7C15)
var docs: [[UInt8]] = []
for event in DemoStream(count: Int.max).lazy.filter({ $0.topic == "orders" }).prefix(2000) { docs.append(Array(event.value.utf8)) }
docs.append(Array(#"{"eventType":"A\u00e9\"x","data":{"items":[{"quantity":1,"quantity":[2,{"a":"\\"}]},{"quantity":true},{"qu\u0061ntity":null,"sku":"é"}, 7, [ {"quantity" : -1.5e3 } ] ], "orderId" : "x" , "orderId":"y"}, "version": 0.5 }"#.utf8))
docs.append(Array(#"{"data":{"orderId":"a","items":[1,{"sku":"x"}],"currency":"EUR"},"eventType":"t","data":{"customerId":"c","items":{"q":1}},"data":{"items":[2,{"sku":"y"},{"sku":"z"}],"orderId":"b"},"data":{}}"#.utf8))
docs.append(Array(#" [ {"quantity":{"x":[1,2,{"y":"}]"}]}} , 3 ] "#.utf8))
for depth in [509, 510, 511, 512, 513] {
    docs.append(Array((#"{"data":{"items":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}}").utf8))
    docs.append(Array((#"{"eventId":"# + String(repeating: #"{"a":["#, count: depth / 2) + "1" + String(repeating: "]}", count: depth / 2) + "}").utf8))
}
for length in 0 ... 33 {  // strings and names ending at a message's end, at every length around 8 and 16 bytes
    let text = String(repeating: "k", count: length)
    docs.append(Array(("\"" + text + "\"").utf8))
    docs.append(Array((#"{"eventType":""# + text + #"",""# + text + #"":{"x":""# + text + #""},"data":{"items":[""# + text + #""]}}"#).utf8))
}
let inserts: [[UInt8]] = [[0x22], [0x5C], [0x5C, 0x75], [0x5C, 0x6E], [0x01], [0x1F], [0x7F], [0x80], [0xC3], [0xC3, 0xA9], [0xE2, 0x82], [0xED, 0xA0, 0x80],
    [0xF0, 0x9F, 0x98, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x7B], [0x7D], [0x5B], [0x5D], [0x2C], [0x3A], [0x20], [0x0A], [0x09], [0x30], [0x2D], [0x2E], [0x65],
    Array("true".utf8), Array("nul".utf8), [0x00], Array(#"\u12"#.utf8), Array(#"\uD83D\uDE00"#.utf8), Array(#"{"a":1}"#.utf8), Array("[[[[".utf8)]
func path(_ names: String...) -> JSONPath { JSONPath(components: names.map { .member($0) }) }
var trie = PathTrie()
var raw = [trie.insert(path("data", "items"))]
for p in [path("eventType"), path("data", "orderId"), path("version"), path("data", "customerId"), path("data", "totalAmount"),
          path("data", "currency"), path("timestamp"), path("data", "carrier"), path("data", "amount")] { raw.append(trie.insert(p)) }
raw.append(trie.insert(JSONPath(components: [.member("data"), .member("items"), .index(1), .member("sku")])))
let map = trie.finish()
let itemsSlot = map[raw[0]]
let walks = [WildcardWalk([PathComponent.wildcard, .member("quantity")][...]), WildcardWalk([PathComponent.wildcard, .member("price")][...]),
             WildcardWalk([PathComponent.index(1), .member("sku")][...]), WildcardWalk([PathComponent.wildcard, .wildcard][...]),
             WildcardWalk([PathComponent.wildcard, .member("quantity"), .wildcard, .member("y")][...])]
let slots = UnsafeMutableBufferPointer<Slot>.allocate(capacity: trie.slotCount)
let page = Int(sysconf(Int32(_SC_PAGESIZE)))
let readable = 4 * page
let region = mmap(nil, readable + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
precondition(region != MAP_FAILED && mprotect(region + readable, page, PROT_NONE) == 0)
var lines = ""
for n in 0 ..< total {
    var doc = docs[Int(rng.next() % UInt64(docs.count))]
    let mutations = Int(rng.next() % 3)
    for _ in 0 ..< mutations {
        let at = Int(rng.next() % UInt64(doc.count + 1))
        switch rng.next() % 4 {
        case 0: doc.removeSubrange(at...)
        case 1: if at < doc.count { doc.remove(at: at) }
        default: doc.insert(contentsOf: inserts[Int(rng.next() % UInt64(inserts.count))], at: at)
        }
        if doc.isEmpty { doc = [0x20] }
    }
    var line = "\(n) "
    precondition(doc.count <= readable)
    let start = (region + readable - doc.count).assumingMemoryBound(to: UInt8.self)
    doc.withUnsafeBufferPointer { start.update(from: $0.baseAddress!, count: doc.count) }
    do {
        let bytes = UnsafeBufferPointer(start: start, count: doc.count)
        var scanner = JSONScanner(bytes)
        do {
            let kind = try scanner.scanDocument(trie: trie, slots: slots)
            line += "ok \(kind.rawValue)"
            for s in slots { line += " \(s.kind.rawValue):\(s.start)-\(s.end)/\(s.extra)" }
            let items = slots[itemsSlot]
            for w in walks {
                var c = Collect()
                try? w.walk(from: items, in: bytes, &c)
                line += " |" + c.out.joined(separator: ",")
            }
        } catch {
            line += "error \(error.offset) \(error.message)"
        }
    }
    lines += line + "\n"
    if lines.utf8.count > 1 << 20 { print(lines, terminator: ""); lines = "" }
}
print(lines, terminator: "")
