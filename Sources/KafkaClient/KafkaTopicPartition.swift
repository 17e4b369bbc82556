/// A partition of a topic.
public struct KafkaTopicPartition: Hashable, Sendable, CustomStringConvertible {
    /// The topic name.
    public var topic: String
    /// The partition number, from 0.
    public var partition: Int32

    /// Creates a topic-partition pair.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// `topic/partition`.
    public var description: String { "\(topic)/\(partition)" }
}

/// An offset in a partition, or one of librdkafka's logical offsets (beginning, end, stored).
///
/// Kafka offsets are the position of a record; a *committed* or *checkpoint* offset is the offset of
/// the next record to read (last processed + 1).
public struct KafkaOffset: Hashable, Sendable, Comparable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// The offset, or a negative logical offset (`RD_KAFKA_OFFSET_*`).
    public var rawValue: Int64

    /// Creates an offset from its raw value.
    public init(_ rawValue: Int64) { self.rawValue = rawValue }

    /// Creates an offset from an integer literal.
    public init(integerLiteral value: Int64) { self.rawValue = value }

    /// The oldest offset still in the partition (`RD_KAFKA_OFFSET_BEGINNING`).
    public static let beginning = KafkaOffset(-2)
    /// The offset after the newest record (`RD_KAFKA_OFFSET_END`).
    public static let end = KafkaOffset(-1)
    /// The group's committed offset, else `auto.offset.reset` (`RD_KAFKA_OFFSET_INVALID`).
    public static let committed = KafkaOffset(-1001)

    /// Whether this is a real position rather than a logical offset.
    public var isConcrete: Bool { rawValue >= 0 }

    /// Orders offsets by raw value.
    public static func < (lhs: KafkaOffset, rhs: KafkaOffset) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The offset, or the name of a logical offset.
    public var description: String {
        switch self {
        case .beginning: "beginning"
        case .end: "end"
        case .committed: "committed"
        default: String(rawValue)
        }
    }
}

/// The low and high watermarks of a partition: the first offset still stored and the next offset to be written.
public struct KafkaWatermarks: Hashable, Sendable {
    /// The oldest offset still in the partition.
    public var low: Int64
    /// The offset the next produced record will get (newest + 1).
    public var high: Int64

    /// Creates watermarks.
    public init(low: Int64, high: Int64) {
        self.low = low
        self.high = high
    }
}
