internal import CRdKafka

/// A consumer group's identity and generation, for committing offsets inside a producer transaction.
///
/// Stored in librdkafka's serialized form (`rd_kafka_consumer_group_metadata_write`), so it is a plain
/// `Sendable` value that can cross threads.
public struct KafkaConsumerGroupMetadata: Sendable, Hashable {
    let bytes: [UInt8]

    /// Metadata for a group known only by id (no generation or member id): enough for
    /// ``KafkaProducer/sendOffsetsToTransaction(_:groupMetadata:timeout:)`` when no consumer is at hand.
    public init(groupID: String) throws(KafkaError) {
        let metadata = rd_kafka_consumer_group_metadata_new(groupID)!
        defer { rd_kafka_consumer_group_metadata_destroy(metadata) }
        try self.init(metadata)
    }

    init(_ metadata: OpaquePointer) throws(KafkaError) {
        var buffer: UnsafeMutableRawPointer?
        var size = 0
        try KafkaError.check(rd_kafka_consumer_group_metadata_write(metadata, &buffer, &size), while: "serializing group metadata")
        defer { rd_kafka_mem_free(nil, buffer) }
        bytes = Array(UnsafeRawBufferPointer(start: buffer, count: size))
    }

    /// A new native copy; the caller destroys it with `rd_kafka_consumer_group_metadata_destroy`.
    func makeNative() throws(KafkaError) -> OpaquePointer {
        var metadata: OpaquePointer?
        let error = bytes.withUnsafeBytes { rd_kafka_consumer_group_metadata_read(&metadata, $0.baseAddress, $0.count) }
        try KafkaError.check(error, while: "reading group metadata")
        return metadata!
    }
}
