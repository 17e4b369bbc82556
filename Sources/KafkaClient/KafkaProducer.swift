internal import CRdKafka

/// A Kafka producer: keyed messages with headers and timestamps, batched delivery reports,
/// idempotence and transactions.
///
/// Sending only enqueues; librdkafka writes in the background. Delivery reports (one per message:
/// partition and offset, or an error) are collected by ``pollDeliveryReports(timeout:)`` on the calling
/// thread, in batches — librdkafka delivers them as `RD_KAFKA_EVENT_DR` events on the main queue
/// (`rd_kafka_conf_set_events`), never on its own threads.
///
/// ```swift
/// let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
/// try producer.send(KafkaProducerMessage(topic: "orders", key: Array("o-1".utf8), value: Array(json.utf8)), id: 1)
/// try producer.flush(timeout: .seconds(10))
/// for report in try producer.pollDeliveryReports() where !report.isDelivered { print(report.error!) }
/// ```
///
/// - Important: `send` may be called from any thread. ``pollDeliveryReports(timeout:)``, ``flush(timeout:)``
///   and the transaction methods must be called from one thread at a time; they block, so never call
///   them on Swift's cooperative pool.
public final class KafkaProducer: @unchecked Sendable {
    // @unchecked Sendable: `send` is thread-safe in librdkafka; `pending` is only touched by the one
    // thread at a time that polls/flushes (documented above).
    let handle: OpaquePointer
    private let mainQueue: OpaquePointer
    private var pending: [KafkaDeliveryReport] = []

    /// The position just past every message this producer has had delivered so far (from the
    /// delivery reports collected by ``pollDeliveryReports(timeout:)``, ``flush(timeout:)`` and the
    /// transaction methods): a view whose position reaches it holds the effect of all of them.
    ///
    /// Send its ``KafkaPosition/token`` as `Projector-Min-Position` to read your own writes.
    /// Read it on the thread that polls, like the reports.
    public private(set) var deliveredPosition = KafkaPosition()

    /// Creates a producer.
    /// - Throws: ``KafkaError`` with code `_INVALID_ARG` naming the property librdkafka rejected.
    public init(configuration: KafkaProducerConfiguration) throws(KafkaError) {
        let conf = try makeNativeConfiguration(configuration.properties, for: RD_KAFKA_PRODUCER)
        // Delivery reports and errors as events on the main queue, served by pollDeliveryReports.
        rd_kafka_conf_set_events(conf, Int32(RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR))
        handle = try makeNativeHandle(RD_KAFKA_PRODUCER, conf)
        mainQueue = rd_kafka_queue_get_main(handle)
    }

    deinit {
        // The queue handle holds a reference on the client; release it before destroying the client.
        rd_kafka_queue_destroy(mainQueue)
        rd_kafka_destroy(handle)
    }

    /// The number of messages not yet delivered or whose reports are not yet polled (`rd_kafka_outq_len`).
    public var outstandingCount: Int { Int(rd_kafka_outq_len(handle)) }

    /// Enqueues a message; its outcome comes back later as a ``KafkaDeliveryReport`` with `id`.
    /// - Throws: ``KafkaError`` (`_QUEUE_FULL`: poll delivery reports and retry; `_UNKNOWN_PARTITION`,
    ///   `_UNKNOWN_TOPIC` when the topic metadata is already known to lack it).
    public func send(_ message: KafkaProducerMessage, id: UInt = 0) throws(KafkaError) {
        try withOptionalBytes(message.key) { (key) throws(KafkaError) in
            try withOptionalBytes(message.value) { (value) throws(KafkaError) in
                try send(
                    topic: message.topic, partition: message.partition, key: key, value: value,
                    headers: message.headers, timestampMilliseconds: message.timestampMilliseconds, id: id
                )
            }
        }
    }

    /// Enqueues a message from borrowed buffers; librdkafka copies them before returning.
    /// - Parameters:
    ///   - topic: the topic.
    ///   - partition: the partition, or nil to let the partitioner choose from the key.
    ///   - key: the key bytes, or nil.
    ///   - value: the value bytes, or nil for a tombstone.
    ///   - headers: headers, in order.
    ///   - timestampMilliseconds: create time in ms since the Unix epoch, or nil for now.
    ///   - id: a correlation id returned in the delivery report.
    /// - Throws: ``KafkaError``, see ``send(_:id:)``.
    public func send(
        topic: String,
        partition: Int32? = nil,
        key: UnsafeRawBufferPointer?,
        value: UnsafeRawBufferPointer?,
        headers: [KafkaHeader] = [],
        timestampMilliseconds: Int64? = nil,
        id: UInt = 0
    ) throws(KafkaError) {
        let (error, nativeHeaders) = nativeProduce(
            handle, topic: topic, partition: partition, key: key, value: value,
            headers: headers, timestampMilliseconds: timestampMilliseconds, id: id
        )
        if let error {
            // On failure the header list was not taken over (rdkafka.h, RD_KAFKA_V_HEADERS).
            if let nativeHeaders { rd_kafka_headers_destroy(nativeHeaders) }
            var kafkaError = KafkaError(consuming: error, while: "producing to \(topic)",
                                        advice: "poll delivery reports and retry if the queue is full")
            kafkaError.topic = topic
            kafkaError.partition = partition
            if kafkaError.code == .queueFull { kafkaError.isRetriable = true }
            throw kafkaError
        }
    }

    /// Returns the delivery reports that are ready, waiting up to `timeout` for the first one.
    ///
    /// Reports collected by ``flush(timeout:)`` or ``commitTransaction(timeout:)`` are returned first.
    /// - Throws: ``KafkaError`` only when the producer hit a fatal error (e.g. an idempotence
    ///   sequence violation); per-message failures are in the reports.
    public func pollDeliveryReports(timeout: Duration = .zero) throws(KafkaError) -> [KafkaDeliveryReport] {
        try collectEvents(timeout: timeout)
        defer { pending = [] }
        return pending
    }

    /// Waits until every enqueued message is delivered or failed, collecting their reports for
    /// ``pollDeliveryReports(timeout:)``.
    ///
    /// librdkafka's `rd_kafka_flush` would wait for delivery-report *events* to be destroyed by another
    /// thread when `RD_KAFKA_EVENT_DR` is enabled, so this serves the main queue itself until
    /// `rd_kafka_outq_len` reaches zero.
    /// - Throws: ``KafkaError`` `_TIMED_OUT` with the number of messages still outstanding.
    public func flush(timeout: Duration) throws(KafkaError) {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        _ = rd_kafka_flush(handle, 0)
        while true {
            try collectEvents(timeout: .milliseconds(10))
            let outstanding = rd_kafka_outq_len(handle)
            if outstanding == 0 { return }
            if clock.now >= deadline {
                throw KafkaError(
                    code: .timedOut,
                    message: "flush did not finish within \(timeout): \(outstanding) message(s) outstanding. "
                        + "Check that the brokers are reachable, or flush with a longer timeout.",
                    isRetriable: true
                )
            }
        }
    }

    private func collectEvents(timeout: Duration) throws(KafkaError) {
        var wait = milliseconds(timeout)
        while let event = rd_kafka_queue_poll(mainQueue, wait) {
            wait = 0
            defer { rd_kafka_event_destroy(event) }
            switch rd_kafka_event_type(event) {
            case RD_KAFKA_EVENT_DR:
                while let message = rd_kafka_event_message_next(event) {
                    let report = report(message)
                    if let offset = report.offset {
                        deliveredPosition.advance(topic: report.topic, partition: report.partition, to: offset + 1)
                    } else if report.isDelivered && report.partition >= 0 {
                        advanceToHighWatermark(topic: report.topic, partition: report.partition)
                    }
                    pending.append(report)
                }
            case RD_KAFKA_EVENT_ERROR:
                if rd_kafka_event_error_is_fatal(event) != 0 {
                    throw fatalError()
                }
                // Non-fatal errors (a broker connection dropped, ...) are retried by librdkafka itself.
            default:
                break
            }
        }
    }

    /// A message delivered without a known offset (a retry the broker recognised as a duplicate)
    /// is below the partition's high watermark: the position takes that, which covers it.
    private func advanceToHighWatermark(topic: String, partition: Int32) {
        var low: Int64 = -1
        var high: Int64 = -1
        if rd_kafka_query_watermark_offsets(handle, topic, partition, &low, &high, 10_000) == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 {
            deliveredPosition.advance(topic: topic, partition: partition, to: high)
        }
    }

    private func report(_ message: UnsafePointer<rd_kafka_message_t>) -> KafkaDeliveryReport {
        let topic = String(cString: rd_kafka_topic_name(message.pointee.rkt))
        let partition = message.pointee.partition
        let failed = message.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR
        return KafkaDeliveryReport(
            id: UInt(bitPattern: message.pointee._private),
            topic: topic,
            partition: partition,
            offset: failed || message.pointee.offset < 0 ? nil : message.pointee.offset,
            error: failed ? KafkaError(message.pointee.err, while: "delivering to \(topic)/\(partition)",
                                       topic: topic, partition: partition) : nil
        )
    }

    func fatalError() -> KafkaError {
        var text = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(handle, &text, text.count)
        let reason = string(fromErrorBuffer: text)
        var error = KafkaError(code: KafkaError.Code(code), message: "the producer hit a fatal error: \(reason). "
            + "Create a new producer.", isFatal: true)
        if code == RD_KAFKA_RESP_ERR_NO_ERROR { error.code = .fatal }
        return error
    }
}

private func withOptionalBytes<R>(
    _ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) throws(KafkaError) -> R
) throws(KafkaError) -> R {
    guard let bytes else { return try body(nil) }
    let result: Result<R, KafkaError> = bytes.withUnsafeBytes { buffer in
        do throws(KafkaError) { return .success(try body(buffer)) } catch { return .failure(error) }
    }
    return try result.get()
}
