/// A Kafka message as a test writes it: owned text, placed on a topic and partition; the harness
/// gives it the next offset of that partition.
///
/// ```swift
/// TestMessage(#"{"eventType":"OrderCreated","data":{"orderId":"o1","totalAmount":10}}"#, key: "o1")
/// TestMessage(tombstoneFor: "o1")
/// ```
public struct TestMessage: Sendable, Hashable {
    /// The message key, or `nil` for none.
    public var key: String?
    /// The message value, or `nil` for a tombstone.
    public var value: String?
    /// The topic; `nil` takes the projection's first source topic.
    public var topic: String?
    /// The partition.
    public var partition: Int32
    /// The Kafka timestamp in milliseconds since the epoch, or `nil` for none.
    public var timestamp: Int64?
    /// The headers, in order.
    public var headers: [(name: String, value: String?)] {
        get { headerPairs.map { ($0.name, $0.value) } }
        set { headerPairs = newValue.map { Header(name: $0.name, value: $0.value) } }
    }
    private var headerPairs: [Header] = []

    private struct Header: Sendable, Hashable {
        var name: String
        var value: String?
    }

    /// A message with a value (an event's JSON).
    public init(_ value: String, key: String? = nil, topic: String? = nil, partition: Int32 = 0, timestamp: Int64? = nil) {
        self.key = key
        self.value = value
        self.topic = topic
        self.partition = partition
        self.timestamp = timestamp
    }

    /// A tombstone: a key without a value.
    public init(tombstoneFor key: String, topic: String? = nil, partition: Int32 = 0, timestamp: Int64? = nil) {
        self.key = key
        self.value = nil
        self.topic = topic
        self.partition = partition
        self.timestamp = timestamp
    }
}
