/// The next offset a pipeline reads from one topic partition, stored with the rows it produced.
public struct Checkpoint: Sendable, Hashable {
    /// The topic name.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The offset of the next message to read (the last applied offset + 1).
    public var nextOffset: Int64

    /// Creates a checkpoint.
    public init(topic: String, partition: Int32, nextOffset: Int64) {
        self.topic = topic
        self.partition = partition
        self.nextOffset = nextOffset
    }
}
