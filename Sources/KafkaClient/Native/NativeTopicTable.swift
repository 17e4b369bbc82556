internal import CRdKafka

/// The consumer's table of topic names, indexed by ``KafkaTopicID``.
///
/// Keyed by librdkafka's `rd_kafka_topic_t *`: a consumer has few topics, so a linear scan with a
/// one-entry cache beats hashing. The table holds its own reference on each topic handle
/// (`rd_kafka_topic_new`), so a pointer can never be freed and reused for another topic while it is
/// in the table.
final class NativeTopicTable {
    private(set) var names: [String] = []
    private var pointers: [OpaquePointer] = []
    private var pointerIDs: [Int32] = []
    private var references: [OpaquePointer] = []
    private var lastPointer: OpaquePointer?
    private var lastID: Int32 = 0

    @inline(__always)
    func id(for topic: OpaquePointer, client: OpaquePointer) -> Int32 {
        if topic == lastPointer { return lastID }
        let id: Int32
        if let index = pointers.firstIndex(of: topic) {
            id = pointerIDs[index]
        } else {
            let name = String(cString: rd_kafka_topic_name(topic))
            if let reference = rd_kafka_topic_new(client, name, nil) { references.append(reference) }
            if let existing = names.firstIndex(of: name) {
                id = Int32(existing)
            } else {
                names.append(name)
                id = Int32(names.count - 1)
            }
            pointers.append(topic)
            pointerIDs.append(id)
        }
        lastPointer = topic
        lastID = id
        return id
    }

    /// The id of a topic name, if the consumer has seen it.
    func id(forName name: String) -> Int32? {
        names.firstIndex(of: name).map { Int32($0) }
    }

    /// Releases the table's topic references; call before `rd_kafka_destroy`.
    func release() {
        for reference in references { rd_kafka_topic_destroy(reference) }
        references = []
    }
}
