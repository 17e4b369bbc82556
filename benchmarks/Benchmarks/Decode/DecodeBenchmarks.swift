import Benchmark
import Foundation
import Pipelines
import ProjectorModel

/// decode: reading the paths a pipeline needs (Plan.run: scan, route, evaluate, coalesce) versus a
/// full parse of the same events (Foundation's JSONSerialization). Per-record numbers are the
/// reported ones divided by `batch` (the scaling factor).
let batch = 10_000

/// `orders` events shaped like DemoStream's: OrderCreated with 1–3 items, then OrderShipped or OrderCancelled.
let events: [(key: [UInt8], value: [UInt8])] = {
    var result: [(key: [UInt8], value: [UInt8])] = []
    var order = 0
    while result.count < batch {
        order += 1
        let id = "o-\(order)"
        let items = (0 ... order % 3).map { #"{"sku":"SKU-\#($0)","quantity":\#($0 + 1),"price":12.50}"# }.joined(separator: ",")
        result.append((Array(id.utf8), Array(#"{"eventId":"g-\#(3 * order)","eventType":"OrderCreated","timestamp":"2026-11-01T00:00:00Z","version":2,"data":{"orderId":"\#(id)","customerId":"c-\#(order % 2000)","totalAmount":\#(order % 500).25,"currency":"EUR","items":[\#(items)]}}"#.utf8)))
        if order % 10 == 0 {
            result.append((Array(id.utf8), Array(#"{"eventId":"g-\#(3 * order + 1)","eventType":"OrderCancelled","timestamp":"2026-11-01T00:00:01Z","version":2,"data":{"orderId":"\#(id)","customerId":"c-\#(order % 2000)","reason":"payment failed"}}"#.utf8)))
        } else {
            result.append((Array(id.utf8), Array(#"{"eventId":"g-\#(3 * order + 1)","eventType":"OrderShipped","timestamp":"2026-11-01T00:00:02Z","version":2,"data":{"orderId":"\#(id)","carrier":"DHL"}}"#.utf8)))
        }
    }
    return Array(result.prefix(batch))
}()

/// No stored rows: every key is new, as in a rebuild from zero.
struct EmptyRows: RowReader {
    mutating func row(in view: Int, key: [ViewValue]) throws -> [ViewValue]? { nil }
}

let pipelinePath = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("pipelines/order_summary.yaml").path

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput, .peakMemoryResident],
        scalingFactor: .kilo, maxDuration: .seconds(3), maxIterations: 200)

    Benchmark("decode: Plan.run order_summary 10k", configuration: .init(scalingFactor: .one)) { benchmark in
        let plan = Plan(try Pipeline.load(path: pipelinePath))
        // One buffer holds every key and value; the messages borrow it (setup, not measured).
        var blob: [UInt8] = []
        var ranges: [(key: Range<Int>, value: Range<Int>)] = []
        for event in events {
            let key = blob.count
            blob += event.key
            let value = blob.count
            blob += event.value
            ranges.append((key ..< value, value ..< blob.count))
        }
        try blob.withUnsafeBytes { bytes in
            let messages = ranges.enumerated().map { index, range in
                RawMessage(key: UnsafeRawBufferPointer(rebasing: bytes[range.key]), value: UnsafeRawBufferPointer(rebasing: bytes[range.value]),
                           topic: 0, partition: 0, offset: Int64(index), timestamp: nil)
            }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                var rows = EmptyRows()
                let result = try messages.withUnsafeBufferPointer { try plan.run($0, rows: &rows) }
                blackHole(result.changes.count)
            }
            benchmark.stopMeasurement()
        }
    }

    Benchmark("decode: JSONSerialization full parse 10k", configuration: .init(scalingFactor: .one)) { benchmark in
        let values = events.map { Data($0.value) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for value in values {
                blackHole(try JSONSerialization.jsonObject(with: value))
            }
        }
        benchmark.stopMeasurement()
    }
}
