/// One Kafka message as the plan sees it: borrowed bytes that are valid only while the batch that
/// owns them is alive. The plan never keeps these pointers past `Plan.run`.
public struct RawMessage {
    /// The message key, or `nil` when the message has none.
    public var key: UnsafeRawBufferPointer?
    /// The message value, or `nil` for a tombstone.
    public var value: UnsafeRawBufferPointer?
    /// Index of the topic in the pipeline's source topics.
    public var topic: Int
    /// The partition.
    public var partition: Int32
    /// The offset within the partition.
    public var offset: Int64
    /// The Kafka timestamp in milliseconds since the epoch, or `nil` when the broker gave none.
    public var timestamp: Int64?

    /// Creates a message view.
    public init(
        key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?,
        topic: Int, partition: Int32, offset: Int64, timestamp: Int64?
    ) {
        self.key = key
        self.value = value
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
    }
}
