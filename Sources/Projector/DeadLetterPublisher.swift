internal import KafkaClient
internal import Views
internal import ProjectorModel

/// Produces a pipeline's dead letters to its dead-letter topic (`dead_letter.topic`), with the
/// store as the outbox.
///
/// Letters are written in their batch's transaction marked pending; after the commit the worker
/// calls ``publish()``, which sends the pending letters in id order with an idempotent producer
/// (original key, value and headers, plus `projector.error`, `projector.pipeline`,
/// `projector.topic`, `projector.partition`, `projector.offset`) and, as acknowledgements come
/// back, marks each acknowledged letter published. A crash between the acknowledgement and the
/// mark produces the letter again on restart: the topic gets every letter at least once
/// (consumers dedupe on the `projector.*` headers); the views still get each event exactly once.
///
/// - Important: Owned by the worker thread. ``publish()`` never waits for the broker; ``drain()``
///   (at stop) waits up to ``deliveryTimeout``.
final class DeadLetterPublisher {
    /// The most letters read from the store and sent at once.
    static let chunk = 1_000

    let pipeline: String
    let topic: String
    let store: any ViewStore
    let producer: KafkaProducer
    /// How long a letter may take to be acknowledged (librdkafka `message.timeout.ms`), and how
    /// long ``drain()`` waits.
    let deliveryTimeout: Duration
    /// Letters sent and not yet acknowledged, by id (the delivery report's correlation id).
    private var inFlight: [UInt: StoredDeadLetter] = [:]
    /// The highest letter id sent; pending letters after it are sent next.
    private var lastSent: Int64 = 0
    /// Whether the store may hold pending letters not yet sent: at start (a previous run's), after
    /// a batch that dead-lettered, after a failed delivery.
    private var mayHavePending = true

    /// Creates the publisher and its idempotent producer.
    /// - Throws: ``ProjectorError`` `.broker` when librdkafka rejects the configuration.
    init(pipeline: String, topic: String, store: any ViewStore, configuration: WorkerConfiguration,
         deliveryTimeout: Duration = .seconds(30)) throws(ProjectorError) {
        self.pipeline = pipeline
        self.topic = topic
        self.store = store
        self.deliveryTimeout = deliveryTimeout
        var producer = KafkaProducerConfiguration(bootstrapServers: configuration.brokers)
        producer.clientID = "projector.\(pipeline).dead-letters"
        producer.isIdempotenceEnabled = true
        producer.messageTimeout = deliveryTimeout
        producer.additionalProperties = configuration.properties
        do {
            self.producer = try KafkaProducer(configuration: producer)
        } catch {
            throw ProjectorError(wrapping: error, doing: "pipeline \(pipeline): the producer of dead-letter topic \(topic)")
        }
    }

    /// Notes that a committed batch wrote dead letters.
    func noteNewLetters() { mayHavePending = true }

    /// Marks the letters acknowledged since the last call published and sends the pending ones
    /// not sent yet; never waits for the broker.
    /// - Throws: ``ProjectorError`` `.broker` when a letter was not delivered (it stays pending and
    ///   is sent again by the next call), `.database` when the store fails.
    func publish() throws(ProjectorError) {
        if !inFlight.isEmpty { try settle(try reports(timeout: .zero)) }
        guard mayHavePending else { return }
        let letters: [StoredDeadLetter]
        do {
            letters = try store.deadLettersToPublish(pipeline: pipeline, after: lastSent, limit: Self.chunk)
        } catch {
            throw ProjectorError(wrapping: error, doing: "pipeline \(pipeline): reading dead letters to publish")
        }
        mayHavePending = letters.count == Self.chunk
        for stored in letters {
            do {
                try producer.send(message(for: stored), id: UInt(stored.id))
            } catch {
                // Not sent (a full queue, most likely): the next call sends it again.
                mayHavePending = true
                throw ProjectorError(wrapping: error, doing: "pipeline \(pipeline): producing dead letter \(stored.id) to \(topic)")
            }
            inFlight[UInt(stored.id)] = stored
            lastSent = stored.id
        }
    }

    /// Sends every pending letter and waits up to ``deliveryTimeout`` for their acknowledgements.
    /// - Throws: ``ProjectorError`` `.broker` when some letter is not acknowledged in time (it
    ///   stays pending for the next run), `.database` when the store fails.
    func drain() throws(ProjectorError) {
        repeat {
            try publish()
            do {
                try producer.flush(timeout: deliveryTimeout)
            } catch {
                throw ProjectorError(code: .broker, message: "pipeline \(pipeline): \(inFlight.count) dead letter(s) not acknowledged "
                    + "by topic \(topic): \(error); they stay pending and are produced again by the next run")
            }
            try settle(try reports(timeout: .zero))
        } while mayHavePending || !inFlight.isEmpty
    }

    private func reports(timeout: Duration) throws(ProjectorError) -> [KafkaDeliveryReport] {
        do {
            return try producer.pollDeliveryReports(timeout: timeout)
        } catch {
            throw ProjectorError(wrapping: error, doing: "pipeline \(pipeline): the producer of dead-letter topic \(topic)")
        }
    }

    /// Marks the acknowledged letters published; a failed one is sent again later.
    private func settle(_ reports: [KafkaDeliveryReport]) throws(ProjectorError) {
        var delivered: [Int64] = []
        var failure: ProjectorError?
        for report in reports {
            guard let stored = inFlight.removeValue(forKey: report.id) else { continue }
            if let error = report.error {
                lastSent = min(lastSent, stored.id - 1)
                mayHavePending = true
                failure = failure ?? ProjectorError(
                    code: .broker,
                    message: "pipeline \(pipeline): dead letter \(stored.id) (\(stored.letter.topic)/\(stored.letter.partition)/"
                        + "\(stored.letter.offset)) was not produced to \(topic): \(error); it stays pending and is produced again")
            } else {
                delivered.append(stored.id)
            }
        }
        if !delivered.isEmpty {
            do {
                try store.markDeadLettersPublished(ids: delivered)
            } catch {
                throw ProjectorError(wrapping: error, doing: "pipeline \(pipeline): marking dead letters published")
            }
        }
        if let failure { throw failure }
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
