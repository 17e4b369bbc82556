/// One event to produce: its topic, key and JSON envelope.
public struct DemoEvent: Sendable, Hashable {
    /// The topic.
    public var topic: String
    /// The key: the aggregate id.
    public var key: String
    /// The JSON envelope (`eventId`, `eventType`, `timestamp`, `data`).
    public var value: String
    /// The Kafka timestamp in ms since the epoch, or nil for the producer's clock.
    public var timestamp: Int64?

    /// Creates an event.
    public init(topic: String, key: String, value: String, timestamp: Int64? = nil) {
        self.topic = topic
        self.key = key
        self.value = value
        self.timestamp = timestamp
    }
}

/// A deterministic stream of e-commerce events (orders, payments, inventory) for the demo and the
/// benchmarks: the same count gives the same events, so views built from it are comparable.
///
/// Each order goes through a saga: OrderCreated and InventoryReserved, then PaymentProcessed →
/// InventoryUpdated → OrderShipped, or PaymentFailed → InventoryReleased → OrderCancelled; one in
/// twenty orders is refunded after shipping. SKUs are restocked now and then.
public struct DemoStream: Sequence, Sendable {
    /// How many events the stream holds (the last saga may be cut short).
    public var count: Int
    /// How many distinct customers place the orders.
    public var customers: Int

    /// Creates a stream of `count` events.
    public init(count: Int, customers: Int = 2_000) {
        self.count = count
        self.customers = customers
    }

    /// The events in production order.
    public func makeIterator() -> Iterator { Iterator(remaining: count, customers: customers) }

    /// Produces the events one saga at a time.
    public struct Iterator: IteratorProtocol {
        private var remaining: Int
        private let customers: Int
        private var pending: [DemoEvent] = []
        private var order = 0
        private var sequence = 0
        private var random = SplitMix64(seed: 0x5052_4f4a_4543_5452)

        init(remaining: Int, customers: Int) {
            self.remaining = remaining
            self.customers = customers
        }

        /// The next event, or `nil` after `count` events.
        public mutating func next() -> DemoEvent? {
            guard remaining > 0 else { return nil }
            if pending.isEmpty { pending = nextSaga().reversed() }
            remaining -= 1
            return pending.popLast()
        }

        private static let skus = ["SKU-RED", "SKU-BLUE", "SKU-GREEN", "SKU-BLACK", "SKU-WHITE", "SKU-GOLD", "SKU-SILVER", "SKU-PINK"]

        private mutating func nextSaga() -> [DemoEvent] {
            order += 1
            let orderID = "ord-\(order)"
            let customerID = "c-\(Int(random.next() % UInt64(customers)) + 1)"
            var events: [DemoEvent] = []
            if order % 50 == 1 {
                for sku in Self.skus {
                    events.append(event("inventory", key: sku, type: "InventoryRestocked", data: #"{"sku":"\#(sku)","quantity":500}"#))
                }
            }
            let itemCount = Int(random.next() % 3) + 1
            var items: [String] = []
            var total = 0
            var reserved: [(sku: String, quantity: Int)] = []
            for _ in 0 ..< itemCount {
                let sku = Self.skus[Int(random.next() % UInt64(Self.skus.count))]
                let quantity = Int(random.next() % 4) + 1
                let cents = 500 + Int(random.next() % 9_500)
                total += cents * quantity
                items.append(#"{"sku":"\#(sku)","quantity":\#(quantity),"price":\#(Self.money(cents))}"#)
                reserved.append((sku, quantity))
            }
            events.append(event("orders", key: orderID, type: "OrderCreated", data:
                #"{"orderId":"\#(orderID)","customerId":"\#(customerID)","totalAmount":\#(Self.money(total)),"currency":"EUR","items":[\#(items.joined(separator: ","))]}"#))
            for item in reserved {
                events.append(event("inventory", key: item.sku, type: "InventoryReserved", data:
                    #"{"sku":"\#(item.sku)","quantity":\#(item.quantity),"orderId":"\#(orderID)"}"#))
            }
            if random.next() % 10 == 0 {
                events.append(event("payments", key: orderID, type: "PaymentFailed", data:
                    #"{"orderId":"\#(orderID)","customerId":"\#(customerID)","reason":"card declined"}"#))
                for item in reserved {
                    events.append(event("inventory", key: item.sku, type: "InventoryReleased", data:
                        #"{"sku":"\#(item.sku)","quantity":\#(item.quantity),"orderId":"\#(orderID)"}"#))
                }
                events.append(event("orders", key: orderID, type: "OrderCancelled", data:
                    #"{"orderId":"\#(orderID)","customerId":"\#(customerID)","reason":"payment failed"}"#))
            } else {
                events.append(event("payments", key: orderID, type: "PaymentProcessed", data:
                    #"{"paymentId":"pay-\#(order)","orderId":"\#(orderID)","customerId":"\#(customerID)","amount":\#(Self.money(total))}"#))
                events.append(event("inventory", key: orderID, type: "InventoryUpdated", data: #"{"orderId":"\#(orderID)"}"#))
                events.append(event("orders", key: orderID, type: "OrderShipped", data: #"{"orderId":"\#(orderID)","carrier":"DHL"}"#))
                if order % 20 == 0 {
                    events.append(event("payments", key: orderID, type: "PaymentRefunded", data:
                        #"{"paymentId":"pay-\#(order)","orderId":"\#(orderID)","customerId":"\#(customerID)","amount":\#(Self.money(total))}"#))
                }
            }
            return events
        }

        private mutating func event(_ topic: String, key: String, type: String, data: String) -> DemoEvent {
            sequence += 1
            let seconds = 1_793_491_200 + sequence  // 2026-11-01T00:00:00Z onwards, one event a second
            let value = #"{"eventId":"g-\#(sequence)","eventType":"\#(type)","timestamp":"\#(Self.timestamp(seconds))","version":2,"data":\#(data)}"#
            return DemoEvent(topic: topic, key: key, value: value)
        }

        private static func money(_ cents: Int) -> String {
            let fraction = cents % 100
            return "\(cents / 100).\(fraction < 10 ? "0" : "")\(fraction)"
        }

        /// ISO-8601 UTC from seconds since the epoch, without Foundation's formatters.
        static func timestamp(_ seconds: Int) -> String {
            let days = seconds / 86_400
            let second = seconds % 86_400
            // Civil-from-days (Howard Hinnant's algorithm).
            let z = days + 719_468
            let era = z / 146_097
            let doe = z - era * 146_097
            let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
            let mp = (5 * doy + 2) / 153
            let day = doy - (153 * mp + 2) / 5 + 1
            let month = mp < 10 ? mp + 3 : mp - 9
            let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
            func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
            return "\(year)-\(two(month))-\(two(day))T\(two(second / 3_600)):\(two(second % 3_600 / 60)):\(two(second % 60))Z"
        }
    }
}

/// A small, fast, seedable generator (SplitMix64): deterministic across platforms.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
