/// The synthetic events `projector bench` produces: OrderCreated envelopes padded to a fixed size.
///
/// The C reference of `benchmarks/` (`cref.c`, `synthetic_event`) builds byte-identical events,
/// so both clients move the same bytes. Every third event shares an order id, so keys repeat the
/// way aggregate ids do.
public enum BenchEvent {
    /// The key and value of event number `sequence`, the value padded to `size` bytes (or longer
    /// when `size` is below the envelope's own length, about 230 bytes).
    /// - Parameters:
    ///   - sequence: the event's number, from 0.
    ///   - size: the wanted value size in bytes.
    ///   - value: receives the value bytes (its contents are replaced; its capacity is reused).
    ///   - key: receives the key bytes.
    public static func fill(_ sequence: Int, size: Int, value: inout [UInt8], key: inout [UInt8]) {
        let order = sequence / 3 + 1
        key.removeAll(keepingCapacity: true)
        key.append(contentsOf: "o-".utf8)
        appendDecimal(order, to: &key)
        value.removeAll(keepingCapacity: true)
        value.append(contentsOf: #"{"eventId":"b-"#.utf8)
        appendDecimal(sequence, to: &value)
        value.append(contentsOf: #"","eventType":"OrderCreated","timestamp":"2026-11-01T00:00:00Z","data":{"orderId":"o-"#.utf8)
        appendDecimal(order, to: &value)
        value.append(contentsOf: #"","customerId":"c-"#.utf8)
        appendDecimal(order % 2000 + 1, to: &value)
        value.append(contentsOf: #"","totalAmount":"#.utf8)
        appendDecimal(order % 1000, to: &value)
        value.append(UInt8(ascii: "."))
        if order % 100 < 10 { value.append(UInt8(ascii: "0")) }
        appendDecimal(order % 100, to: &value)
        value.append(contentsOf: #","currency":"EUR","items":[{"sku":"SKU-RED","quantity":"#.utf8)
        appendDecimal(order % 4 + 1, to: &value)
        value.append(contentsOf: "}]".utf8)
        // Pad with a `note` member when there is room for one (`,"note":""` is 10 bytes).
        let room = size - (value.count + 2) - 10
        if room >= 0 {
            value.append(contentsOf: #","note":"#.utf8)
            value.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: room))
            value.append(UInt8(ascii: "\""))
        }
        value.append(contentsOf: "}}".utf8)
    }

    private static func appendDecimal(_ number: Int, to bytes: inout [UInt8]) {
        if number >= 10 { appendDecimal(number / 10, to: &bytes) }
        bytes.append(UInt8(ascii: "0") + UInt8(number % 10))
    }
}
