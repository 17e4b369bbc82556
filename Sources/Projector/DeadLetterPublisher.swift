internal import KafkaClient
internal import Views
internal import ProjectorModel

/// A pipeline's dead letters as an outbox for ``OutboxRelay``: the relay produces them to the
/// dead-letter topic (`dead_letter.topic`).
///
/// Letters are written in their batch's transaction marked pending (`_projector_dead_letters.published = 0`);
/// the relay sends the pending letters in id order (original key, value and headers, plus
/// `projector.error`, `projector.pipeline`, `projector.topic`, `projector.partition`,
/// `projector.offset`) and marks each acknowledged letter published. Only the worker holding the
/// letter's source partition publishes it (``OutboxFence``), as for emitted records.
final class DeadLetterOutbox: OutboxSource {
    let pipeline: String
    let topic: String
    let store: any ViewStore
    /// The highest letter id sent; pending letters after it are sent next (letters before it that
    /// the fence passed over are read again after ``rewind()``).
    private var lastSent: Int64 = 0

    init(pipeline: String, topic: String, store: any ViewStore) {
        self.pipeline = pipeline
        self.topic = topic
        self.store = store
    }

    var destination: String { "dead-letter topic \(topic)" }
    var clientSuffix: String { "dead-letters" }

    func pending(limit: Int, inFlight: Set<String>) throws -> [OutboxItem] {
        try store.deadLettersToPublish(pipeline: pipeline, after: lastSent, limit: limit).compactMap { stored in
            let letter = stored.letter
            let key = String(stored.id)
            guard !inFlight.contains(key) else { return nil }
            return OutboxItem(
                key: key, message: message(for: stored),
                label: "dead letter \(stored.id) (\(letter.topic)/\(letter.partition)/\(letter.offset))",
                partition: KafkaTopicPartition(topic: letter.topic, partition: letter.partition))
        }
    }

    func sent(_ item: OutboxItem) { lastSent = max(lastSent, Int64(item.key)!) }

    func failed(_ item: OutboxItem) { lastSent = min(lastSent, Int64(item.key)! - 1) }

    func rewind() { lastSent = 0 }

    func delivered(_ items: [OutboxItem]) throws {
        try store.markDeadLettersPublished(ids: items.map { Int64($0.key)! })
    }

    /// The letter as a message: original key, value and headers, then the `projector.*` headers.
    func message(for stored: StoredDeadLetter) -> KafkaProducerMessage {
        let letter = stored.letter
        var headers = letter.headers.map { KafkaHeader(name: $0.name, value: $0.value) }
        headers += [
            KafkaHeader(name: "projector.error", string: letter.error),
            KafkaHeader(name: "projector.pipeline", string: pipeline),
            KafkaHeader(name: "projector.topic", string: letter.topic),
            KafkaHeader(name: "projector.partition", string: String(letter.partition)),
            KafkaHeader(name: "projector.offset", string: String(letter.offset)),
        ]
        return KafkaProducerMessage(topic: topic, key: letter.key, value: letter.value, headers: headers)
    }
}
