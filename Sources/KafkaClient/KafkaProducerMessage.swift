/// A record header: a name and an optional value.
public struct KafkaHeader: Hashable, Sendable {
    /// The header name.
    public var name: String
    /// The header value, or nil for a null value.
    public var value: [UInt8]?

    /// Creates a header.
    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }

    /// Creates a header with a UTF-8 string value.
    public init(name: String, string: String) {
        self.init(name: name, value: Array(string.utf8))
    }
}

/// A message to produce.
public struct KafkaProducerMessage: Sendable {
    /// The topic to write to.
    public var topic: String
    /// The partition, or nil to let the partitioner pick one from the key.
    public var partition: Int32?
    /// The key (for events: the aggregate id), or nil.
    public var key: [UInt8]?
    /// The value, or nil for a tombstone.
    public var value: [UInt8]?
    /// Headers, in order.
    public var headers: [KafkaHeader]
    /// The create time in milliseconds since the Unix epoch, or nil for "now".
    public var timestampMilliseconds: Int64?

    /// Creates a message.
    public init(
        topic: String,
        partition: Int32? = nil,
        key: [UInt8]? = nil,
        value: [UInt8]?,
        headers: [KafkaHeader] = [],
        timestampMilliseconds: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
    }
}

/// The outcome of producing one message: where it was written, or why it was not.
public struct KafkaDeliveryReport: Sendable {
    /// The correlation id passed to ``KafkaProducer/send(_:id:)``.
    public var id: UInt
    /// The topic.
    public var topic: String
    /// The partition the message was (or would have been) written to; -1 if none was chosen.
    public var partition: Int32
    /// The offset the message was written at, or nil if it failed or the offset is unknown.
    public var offset: Int64?
    /// Why the message was not written, or nil on success.
    public var error: KafkaError?

    /// Whether the message was written.
    public var isDelivered: Bool { error == nil }
}
