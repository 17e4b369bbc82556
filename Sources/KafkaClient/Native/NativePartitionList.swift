internal import CRdKafka

/// Owns an `rd_kafka_topic_partition_list_t` and destroys it when released.
final class NativePartitionList {
    let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    init(capacity: Int = 0) {
        pointer = rd_kafka_topic_partition_list_new(Int32(clamping: capacity))
    }

    /// Adopts a list that the caller owns (e.g. from `rd_kafka_assignment`).
    init(adopting pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        self.pointer = pointer
    }

    convenience init(_ partitions: some Collection<KafkaTopicPartition>, offset: KafkaOffset = .committed) {
        self.init(capacity: partitions.count)
        for partition in partitions { add(partition, offset: offset) }
    }

    convenience init(_ offsets: [KafkaTopicPartition: KafkaOffset]) {
        self.init(capacity: offsets.count)
        for (partition, offset) in offsets { add(partition, offset: offset) }
    }

    deinit { rd_kafka_topic_partition_list_destroy(pointer) }

    func add(_ partition: KafkaTopicPartition, offset: KafkaOffset) {
        let element = rd_kafka_topic_partition_list_add(pointer, partition.topic, partition.partition)!
        element.pointee.offset = offset.rawValue
    }

    var elements: UnsafeMutableBufferPointer<rd_kafka_topic_partition_t> {
        UnsafeMutableBufferPointer(start: pointer.pointee.elems, count: Int(pointer.pointee.cnt))
    }

    static func partitions(of list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [KafkaTopicPartition] {
        let elements = UnsafeMutableBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt))
        return elements.map { KafkaTopicPartition(topic: String(cString: $0.topic), partition: $0.partition) }
    }

    var partitions: [KafkaTopicPartition] { Self.partitions(of: pointer) }

    /// The offsets of the list; elements with a per-partition error throw the first such error.
    func offsets(while operation: String) throws(KafkaError) -> [KafkaTopicPartition: KafkaOffset] {
        var result: [KafkaTopicPartition: KafkaOffset] = [:]
        for element in elements {
            let partition = KafkaTopicPartition(topic: String(cString: element.topic), partition: element.partition)
            if element.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(element.err, while: operation, topic: partition.topic, partition: partition.partition)
            }
            result[partition] = KafkaOffset(element.offset)
        }
        return result
    }
}
