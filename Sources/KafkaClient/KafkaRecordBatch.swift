internal import CRdKafka

/// The records of one ``KafkaConsumer/poll(maxMessages:timeout:fillTimeout:_:)``, read in place from librdkafka's buffers.
///
/// A batch is only valid inside the closure it is passed to: when the closure returns, the consumer
/// destroys the batch's `rd_kafka_message_t`s, and every ``KafkaRecord``, key, value and header
/// buffer read from it dangles. Copy out what must outlive the batch.
///
/// Records are in the order librdkafka delivered them: in offset order per partition, partitions
/// interleaved. End-of-partition markers and per-partition errors are in ``events``, not thrown.
///
/// ```swift
/// try consumer.poll(maxMessages: 10_000, timeout: .milliseconds(100)) { batch in
///     for record in batch {
///         guard let value = record.value else { continue }   // tombstone
///         apply(record.topicID, record.partition, record.offset, value)
///     }
/// }
/// ```
public struct KafkaRecordBatch: RandomAccessCollection {
    let messages: UnsafePointer<UnsafeMutablePointer<rd_kafka_message_t>?>
    let topicIDs: UnsafePointer<Int32>
    /// The number of records.
    public let count: Int
    unowned(unsafe) let topics: NativeTopicTable

    /// End-of-partition markers, per-partition errors, failed commits and rebalance errors seen in this poll.
    public let events: [KafkaConsumerEvent]

    /// 0.
    public var startIndex: Int { 0 }
    /// ``count``.
    public var endIndex: Int { count }

    /// The record at `position`; valid only while the batch is.
    @inline(__always)
    public subscript(position: Int) -> KafkaRecord {
        precondition(position >= 0 && position < count, "record index out of range")
        return KafkaRecord(message: messages[position]!, topicID: KafkaTopicID(index: topicIDs[position]), topics: topics)
    }

    /// The name of a topic id seen in this consumer.
    public func topicName(_ id: KafkaTopicID) -> String { topics.names[Int(id.index)] }
}

/// A cheap identity for a topic within one consumer: an index into the consumer's table of topic names.
///
/// Ids are assigned the first time a topic is seen and stay stable for the consumer's lifetime, so
/// callers can key per-topic state by id (an array index) instead of by name.
public struct KafkaTopicID: Hashable, Sendable, Comparable {
    /// The index in the consumer's topic table, from 0.
    public let index: Int32
    /// Orders ids by index.
    public static func < (lhs: KafkaTopicID, rhs: KafkaTopicID) -> Bool { lhs.index < rhs.index }
}

/// One consumed record, borrowed from its batch: no copy is made until you ask for one.
///
/// - Important: Valid only inside the ``KafkaConsumer/poll(maxMessages:timeout:fillTimeout:_:)`` closure whose
///   batch it came from.
public struct KafkaRecord {
    let message: UnsafeMutablePointer<rd_kafka_message_t>
    /// The topic's id in this consumer (see ``KafkaTopicID``).
    public let topicID: KafkaTopicID
    unowned(unsafe) let topics: NativeTopicTable

    /// The topic name (shared storage; no allocation).
    public var topic: String { topics.names[Int(topicID.index)] }
    /// The partition.
    @inline(__always) public var partition: Int32 { message.pointee.partition }
    /// The record's offset in its partition.
    @inline(__always) public var offset: Int64 { message.pointee.offset }
    /// The topic and partition (allocates nothing beyond the shared topic string).
    public var topicPartition: KafkaTopicPartition { KafkaTopicPartition(topic: topic, partition: partition) }

    /// The key bytes, or nil if the record has no key.
    @inline(__always) public var key: UnsafeRawBufferPointer? {
        guard let key = message.pointee.key else { return nil }
        return UnsafeRawBufferPointer(start: key, count: message.pointee.key_len)
    }

    /// The value bytes, or nil for a tombstone.
    @inline(__always) public var value: UnsafeRawBufferPointer? {
        guard let payload = message.pointee.payload else { return nil }
        return UnsafeRawBufferPointer(start: payload, count: message.pointee.len)
    }

    /// The record's timestamp, or nil if it has none.
    public var timestamp: KafkaTimestamp? {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let milliseconds = rd_kafka_message_timestamp(message, &type)
        switch type {
        case RD_KAFKA_TIMESTAMP_CREATE_TIME: return KafkaTimestamp(milliseconds: milliseconds, kind: .createTime)
        case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: return KafkaTimestamp(milliseconds: milliseconds, kind: .logAppendTime)
        default: return nil
        }
    }

    /// The record's headers, borrowed. librdkafka parses them on first access (`rd_kafka_message_headers`).
    public var headers: KafkaRecordHeaders {
        var headers: OpaquePointer?
        if rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR { headers = nil }
        return KafkaRecordHeaders(headers: headers)
    }
}

/// A record timestamp in milliseconds since the Unix epoch, and who set it.
public struct KafkaTimestamp: Hashable, Sendable {
    /// Who set the timestamp.
    public enum Kind: Hashable, Sendable {
        /// The producer (`CreateTime`).
        case createTime
        /// The broker, when it appended the record (`LogAppendTime`).
        case logAppendTime
    }

    /// Milliseconds since the Unix epoch.
    public var milliseconds: Int64
    /// Who set it.
    public var kind: Kind

    /// Creates a timestamp.
    public init(milliseconds: Int64, kind: Kind) {
        self.milliseconds = milliseconds
        self.kind = kind
    }
}

/// The headers of a record, borrowed from its batch.
public struct KafkaRecordHeaders: RandomAccessCollection {
    let headers: OpaquePointer?

    /// 0.
    public var startIndex: Int { 0 }
    /// The number of headers.
    public var endIndex: Int { headers.map { rd_kafka_header_cnt($0) } ?? 0 }

    /// The header at `position`.
    public subscript(position: Int) -> KafkaRecordHeader {
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        let err = rd_kafka_header_get_all(headers, position, &name, &value, &size)
        precondition(err == RD_KAFKA_RESP_ERR_NO_ERROR, "header index out of range")
        return KafkaRecordHeader(nameCString: name!, value: value.map { UnsafeRawBufferPointer(start: $0, count: size) })
    }

    /// The value of the last header named `name`: nil if there is none, `.some(nil)` if its value is null.
    public func value(forName name: String) -> UnsafeRawBufferPointer?? {
        guard let headers else { return nil }
        var value: UnsafeRawPointer?
        var size = 0
        guard rd_kafka_header_get_last(headers, name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return .some(value.map { UnsafeRawBufferPointer(start: $0, count: size) })
    }
}

/// One record header, borrowed from its batch.
public struct KafkaRecordHeader {
    /// The name as a NUL-terminated C string, borrowed.
    public let nameCString: UnsafePointer<CChar>
    /// The value bytes, or nil for a null value.
    public let value: UnsafeRawBufferPointer?
    /// The name (allocates a `String`).
    public var name: String { String(cString: nameCString) }
}

/// Something other than a record that a poll saw.
public struct KafkaConsumerEvent: Sendable {
    /// What happened.
    public enum Kind: Sendable {
        /// The consumer reached the end of the partition; `offset` is the next offset to be written
        /// (only with ``KafkaConsumerConfiguration/isPartitionEOFEnabled``).
        case endOfPartition(offset: Int64)
        /// A non-fatal error, for one partition (``topicPartition`` set) or the whole consumer.
        case error(KafkaError)
        /// An asynchronous commit failed.
        case commitFailed(KafkaError)
    }

    /// The partition concerned, if any; partition -1 means the whole topic (e.g. an unknown topic).
    public var topicPartition: KafkaTopicPartition?
    /// What happened.
    public var kind: Kind
}
