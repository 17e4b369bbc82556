internal import KafkaClient
internal import ProjectorModel

/// Maps a consumer's topic ids to a projection's topic indices (`RawMessage.topic`), looking each
/// name up once: batches then cost an array read per record.
///
/// - Important: Owned by the thread that polls `consumer`.
struct TopicIndexes {
    private let topics: [String]
    private var slots: [Int] = []

    init(topics: [String]) { self.topics = topics }

    /// The index in the projection's topics of the topic behind `id`.
    mutating func index(of id: KafkaTopicID, in consumer: KafkaConsumer) -> Int {
        let slot = Int(id.index)
        if slot >= slots.count { slots += repeatElement(-1, count: slot + 1 - slots.count) }
        if slots[slot] < 0 {
            let name = consumer.topicName(id)
            guard let index = topics.firstIndex(of: name) else {
                preconditionFailure("the consumer returned topic \(name), which was not asked for (topics: \(topics))")
            }
            slots[slot] = index
        }
        return slots[slot]
    }
}
