internal import KafkaClient
internal import Views
internal import ProjectorModel

/// One record of an outbox, ready to produce: what the relay keeps while it is in flight.
struct OutboxItem {
    /// Identifies the record in its outbox while in flight (a dead letter's row id, an emitted
    /// record's `projector.id`).
    var key: String
    /// The message to produce.
    var message: KafkaProducerMessage
    /// The record in error messages (`dead letter 7 (orders/0/12)`).
    var label: String
    /// The source partition whose batch wrote the record: only the worker holding that
    /// partition's claim produces it (``OutboxFence``); nil for a record any worker may produce.
    var partition: KafkaTopicPartition? = nil
}

/// Where a relay takes its records from and marks them delivered: the dead-letter table
/// (``DeadLetterOutbox``) or a pipeline's emitted records (``EmitOutbox``).
///
/// Both are tables written in the batch's transaction, so the relay is the one piece of code that
/// turns "committed with the views" into "produced to Kafka at least once".
protocol OutboxSource: AnyObject {
    /// What the relay produces to, for messages (`dead-letter topic orders-dlq`).
    var destination: String { get }
    /// The suffix of the producer's `client.id` (`dead-letters`, `outbox`).
    var clientSuffix: String { get }
    /// Up to `limit` pending records in the order they must be produced, none of them in `inFlight`.
    func pending(limit: Int, inFlight: Set<String>) throws -> [OutboxItem]
    /// Notes that `item` was handed to the producer.
    func sent(_ item: OutboxItem)
    /// Notes that `item` was not delivered: it is produced again.
    func failed(_ item: OutboxItem)
    /// Reads every pending record again from the next ``pending(limit:inFlight:)``: records passed
    /// over for another partition owner may be this worker's after a change of claims.
    func rewind()
    /// Marks acknowledged records delivered in the store.
    func delivered(_ items: [OutboxItem]) throws
}

/// Produces the pending records of an outbox with an idempotent producer, after the batch that
/// wrote them committed, and marks them delivered as acknowledgements come back.
///
/// A crash between the acknowledgement and the mark produces the record again on restart: the
/// topic gets every record at least once, and consumers that dedupe on its `projector.*` headers
/// see it once; the views still get each event exactly once.
///
/// - Important: Owned by the worker thread. ``publish()`` never waits for the broker; ``drain()``
///   (at stop) waits up to ``deliveryTimeout``.
final class OutboxRelay {
    /// The most records read from the store and sent at once.
    static let chunk = 1_000

    let pipeline: String
    let source: any OutboxSource
    let producer: KafkaProducer
    /// How long a record may take to be acknowledged (librdkafka `message.timeout.ms`), and how
    /// long ``drain()`` waits.
    let deliveryTimeout: Duration
    /// Which records this worker may produce; nil when it produces every pending record.
    private var fence: OutboxFence?
    /// Records sent and not yet acknowledged, by the delivery report's correlation id.
    private var inFlight: [UInt: OutboxItem] = [:]
    private var inFlightKeys: Set<String> = []
    private var nextID: UInt = 1
    /// Whether the store may hold pending records not yet sent: at start (a previous run's), after
    /// a batch that wrote some, after a failed delivery.
    private var mayHavePending = true

    /// Creates the relay and its idempotent producer.
    /// - Throws: ``ProjectorError`` `.broker` when librdkafka rejects the configuration.
    init(pipeline: String, source: any OutboxSource, configuration: WorkerConfiguration,
         fence: OutboxFence? = nil, deliveryTimeout: Duration = .seconds(30)) throws(ProjectorError) {
        self.pipeline = pipeline
        self.source = source
        self.fence = fence
        self.deliveryTimeout = deliveryTimeout
        var producer = KafkaProducerConfiguration(bootstrapServers: configuration.brokers)
        producer.clientID = "projector.\(pipeline).\(source.clientSuffix)"
        producer.isIdempotenceEnabled = true
        producer.messageTimeout = deliveryTimeout
        producer.additionalProperties = configuration.properties
        do {
            self.producer = try KafkaProducer(configuration: producer)
        } catch {
            throw ProjectorError(wrapping: error, doing: "pipeline \(pipeline): the producer of \(source.destination)")
        }
    }

    /// Notes that a committed batch wrote records to the outbox.
    func noteNewRecords() { mayHavePending = true }

    /// Keeps the worker's current claims for ``drain()``: closing the consumer forgets them, yet
    /// the records of the last batches are still this worker's to produce (unless another worker
    /// claims their partitions meanwhile, which the stored epochs still tell).
    func keepClaims() { fence?.keepClaims() }

    /// Marks the records acknowledged since the last call delivered and sends the pending ones
    /// not sent yet, of the partitions this worker holds (``OutboxFence``); never waits for the broker.
    /// - Throws: ``ProjectorError`` `.broker` when a record was not delivered (it stays pending and
    ///   is sent again by the next call), `.database` when the store fails.
    func publish() throws(ProjectorError) {
        if !inFlight.isEmpty { try settle(try reports(timeout: .zero)) }
        // A new claim may have made records held back for another owner this worker's.
        if fence?.claimsChanged() == true {
            mayHavePending = true
            source.rewind()
        }
        guard mayHavePending else { return }
        var items: [OutboxItem]
        do {
            items = try source.pending(limit: Self.chunk, inFlight: inFlightKeys)
            mayHavePending = items.count == Self.chunk
            if let fence { items = try fence.owned(items) }
        } catch {
            throw ProjectorError(wrapping: error, doing: "pipeline \(pipeline): reading the records to produce to \(source.destination)")
        }
        for item in items {
            let id = nextID
            do {
                try producer.send(item.message, id: id)
            } catch {
                // Not sent (a full queue, most likely): the next call sends it again.
                mayHavePending = true
                source.failed(item)
                throw ProjectorError(wrapping: error, doing: "pipeline \(pipeline): producing \(item.label) to \(source.destination)")
            }
            nextID += 1
            inFlight[id] = item
            inFlightKeys.insert(item.key)
            source.sent(item)
        }
    }

    /// Sends every pending record and waits up to ``deliveryTimeout`` for their acknowledgements.
    /// - Throws: ``ProjectorError`` `.broker` when some record is not acknowledged in time (it
    ///   stays pending for the next run), `.database` when the store fails.
    func drain() throws(ProjectorError) {
        repeat {
            try publish()
            do {
                try producer.flush(timeout: deliveryTimeout)
            } catch {
                throw ProjectorError(code: .broker, message: "pipeline \(pipeline): \(inFlight.count) record(s) not acknowledged "
                    + "by \(source.destination): \(error); they stay pending and are produced again by the next run")
            }
            try settle(try reports(timeout: .zero))
        } while mayHavePending || !inFlight.isEmpty
    }

    private func reports(timeout: Duration) throws(ProjectorError) -> [KafkaDeliveryReport] {
        do {
            return try producer.pollDeliveryReports(timeout: timeout)
        } catch {
            throw ProjectorError(wrapping: error, doing: "pipeline \(pipeline): the producer of \(source.destination)")
        }
    }

    /// Marks the acknowledged records delivered; a failed one is sent again later.
    private func settle(_ reports: [KafkaDeliveryReport]) throws(ProjectorError) {
        var delivered: [OutboxItem] = []
        var failure: ProjectorError?
        for report in reports {
            guard let item = inFlight.removeValue(forKey: report.id) else { continue }
            inFlightKeys.remove(item.key)
            if let error = report.error {
                source.failed(item)
                mayHavePending = true
                failure = failure ?? ProjectorError(
                    code: .broker,
                    message: "pipeline \(pipeline): \(item.label) was not produced to \(source.destination): \(error); "
                        + "it stays pending and is produced again")
            } else {
                delivered.append(item)
            }
        }
        if !delivered.isEmpty {
            do {
                try source.delivered(delivered)
            } catch {
                throw ProjectorError(wrapping: error, doing: "pipeline \(pipeline): marking records produced to \(source.destination)")
            }
        }
        if let failure { throw failure }
    }
}
