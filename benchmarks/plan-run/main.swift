// `Plan.run` of a pipeline over the first EVENTS `orders` events of the demo stream, BATCH per batch, a
// dictionary as the store (benchmarks/plan-run/run); prints the views' digest.
import Foundation
import Pipelines
import ProjectorModel

struct Store: RowReader {
    var tables: [Int: [[ViewValue]: [ViewValue]]] = [:]
    mutating func row(in view: Int, key: [ViewValue]) throws -> [ViewValue]? { tables[view]?[key] }
    mutating func rows(in view: Int, keyPrefix: [ViewValue], upTo: ViewValue) throws -> [[ViewValue]] { [] }
}

let args = CommandLine.arguments
let plan = Plan(try Pipeline.load(path: args[1]))
let count = Int(args[2])!
let batchSize = Int(args[3])!
var keys: [[UInt8]] = []
var values: [[UInt8]] = []
for event in DemoStream(count: Int.max).lazy.filter({ $0.topic == "orders" }).prefix(count) {
    keys.append(Array(event.key.utf8)); values.append(Array(event.value.utf8))
}
let keyBuf = UnsafeMutableRawBufferPointer.allocate(byteCount: keys.reduce(0) { $0 + $1.count }, alignment: 8)
let valBuf = UnsafeMutableRawBufferPointer.allocate(byteCount: values.reduce(0) { $0 + $1.count }, alignment: 8)
var messages: [RawMessage] = []
var ko = 0, vo = 0
for i in keys.indices {
    keys[i].withUnsafeBytes { (keyBuf.baseAddress! + ko).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    values[i].withUnsafeBytes { (valBuf.baseAddress! + vo).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    messages.append(RawMessage(key: UnsafeRawBufferPointer(start: keyBuf.baseAddress! + ko, count: keys[i].count),
                               value: UnsafeRawBufferPointer(start: valBuf.baseAddress! + vo, count: values[i].count),
                               topic: 0, partition: 0, offset: Int64(i), timestamp: 1_700_000_000_000 + Int64(i)))
    ko += keys[i].count; vo += values[i].count
}
var store = Store()
var applied = 0, errors = 0
messages.withUnsafeBufferPointer { all in
    var start = 0
    while start < all.count {
        let end = min(start + batchSize, all.count)
        let result = try! plan.run(UnsafeBufferPointer(rebasing: all[start..<end]), rows: &store)
        applied += result.counters.applied; errors += result.errors.count
        for change in result.changes {
            if let row = change.row { store.tables[change.view, default: [:]][change.key] = row } else { store.tables[change.view]?[change.key] = nil }
        }
        start = end
    }
}
var lines: [String] = []
for (view, table) in store.tables { for (_, row) in table { lines.append("\(view) \(row)") } }
lines.sort()
var digest: UInt64 = 0xcbf29ce484222325
for byte in lines.joined(separator: "\n").utf8 { digest = (digest ^ UInt64(byte)) &* 0x100000001b3 }
print("events \(messages.count) applied \(applied) errors \(errors) rows \(lines.count) digest \(String(digest, radix: 16))")
