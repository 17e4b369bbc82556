internal import CRdKafka

/// The brokers and topics of the cluster as `handle` sees them, or of `topics` only; shared by
/// ``KafkaAdmin/metadata(topics:timeout:)`` and ``KafkaConsumer/metadata(topics:timeout:)`` so a
/// client that already has a connection need not open another one just to ask.
///
/// Asks for every topic and filters here: a request naming a missing topic would make brokers
/// with `auto.create.topics.enable=true` (and librdkafka 2.0.2's mock) create it.
func readNativeMetadata(_ handle: OpaquePointer, topics: [String]?, timeout: Duration) throws(KafkaError) -> KafkaClusterMetadata {
    var metadata: UnsafePointer<rd_kafka_metadata>?
    let err = rd_kafka_metadata(handle, 1, nil, &metadata, milliseconds(timeout))
    try KafkaError.check(err, while: "reading cluster metadata", advice: "check bootstrap servers and that brokers are up")
    defer { rd_kafka_metadata_destroy(metadata) }
    let native = metadata!.pointee
    let brokers = UnsafeBufferPointer(start: native.brokers, count: Int(native.broker_cnt)).map {
        KafkaClusterMetadata.Broker(id: $0.id, host: String(cString: $0.host), port: Int($0.port))
    }
    var result: [KafkaClusterMetadata.Topic] = []
    for topic in UnsafeBufferPointer(start: native.topics, count: Int(native.topic_cnt)) {
        let name = String(cString: topic.topic)
        if let topics, !topics.contains(name) { continue }
        let partitions = UnsafeBufferPointer(start: topic.partitions, count: Int(topic.partition_cnt)).map {
            KafkaClusterMetadata.Partition(
                id: $0.id, leader: $0.leader,
                replicas: Array(UnsafeBufferPointer(start: $0.replicas, count: Int($0.replica_cnt))),
                error: $0.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError.Code($0.err)
            )
        }
        result.append(KafkaClusterMetadata.Topic(
            name: name, partitions: partitions.sorted { $0.id < $1.id },
            error: topic.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError.Code(topic.err)
        ))
    }
    // Cached from the answer above: the call does not block. librdkafka 2.0.2's mock names
    // broker 0, which it does not have.
    let controller = rd_kafka_controllerid(handle, 0)
    return KafkaClusterMetadata(brokers: brokers, topics: result,
                                controllerID: brokers.contains { $0.id == controller } ? controller : nil)
}
