internal import CRdKafka

/// A batch-native Kafka consumer: consumer groups with a synchronous rebalance hook, or manual
/// assignment; batches of borrowed records; seek, pause/resume, offsets and watermarks.
///
/// The consumer is built for one dedicated thread running a loop like:
///
/// ```swift
/// let consumer = try KafkaConsumer(configuration: configuration, rebalanceHandler: checkpointLoader)
/// try consumer.subscribe(topics: ["orders"])
/// while !stopping.load(ordering: .relaxed) {
///     try consumer.poll(maxMessages: 10_000, timeout: .milliseconds(100)) { batch in
///         for record in batch { ... }                 // borrowed: valid inside this closure only
///         for event in batch.events { ... }           // end of partition, per-partition errors
///     }
///     try consumer.commit(nextOffsets, mode: .async)  // informational, for lag tools
/// }
/// try consumer.close()
/// ```
///
/// Rebalance callbacks, commit results and errors are all delivered inside ``poll(maxMessages:timeout:fillTimeout:_:)``
/// on the polling thread; librdkafka's own threads never call into Swift.
///
/// - Important: Use a consumer from one thread at a time (the polling thread). Methods that take a
///   timeout block on the network; never call them on Swift's cooperative pool.
public final class KafkaConsumer: @unchecked Sendable {
    // @unchecked Sendable: may be created on one thread and handed to the polling thread; from then
    // on only that thread uses it (documented above). The C handle itself is thread-safe.
    let handle: OpaquePointer
    let queue: OpaquePointer
    private let topics = NativeTopicTable()
    private let coordinator: NativeRebalanceCoordinator
    private var messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>
    private var topicIDs: UnsafeMutablePointer<Int32>
    private var capacity: Int
    private var events: [KafkaConsumerEvent] = []
    private var isClosed = false
    private var isPolling = false

    /// Creates a consumer.
    /// - Parameters:
    ///   - configuration: properties; see ``KafkaConsumerConfiguration``.
    ///   - rebalanceHandler: called on the polling thread when partitions are assigned or revoked.
    ///     Held strongly until ``close()``.
    /// - Throws: ``KafkaError`` `_INVALID_ARG` naming a property librdkafka rejected.
    public init(configuration: KafkaConsumerConfiguration, rebalanceHandler: (any KafkaRebalanceHandler)? = nil) throws(KafkaError) {
        let properties = configuration.properties
        let conf = try makeNativeConfiguration(properties, for: RD_KAFKA_CONSUMER)
        coordinator = NativeRebalanceCoordinator(
            handler: rebalanceHandler,
            assignmentStrategy: properties.last { $0.key == "partition.assignment.strategy" }?.value ?? "",
            statistics: configuration.statisticsHandler)
        // The coordinator outlives the handle: it is released in deinit after rd_kafka_destroy.
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(coordinator).toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf, nativeRebalanceCallback)
        rd_kafka_conf_set_offset_commit_cb(conf, nativeOffsetCommitCallback)
        if configuration.statisticsHandler != nil { rd_kafka_conf_set_stats_cb(conf, nativeStatisticsCallback) }
        handle = try makeNativeHandle(RD_KAFKA_CONSUMER, conf)
        // Route the main queue (errors, callbacks) to the consumer queue so one poll serves all.
        rd_kafka_poll_set_consumer(handle)
        queue = rd_kafka_queue_get_consumer(handle)
        capacity = 1024
        messages = .allocate(capacity: capacity)
        topicIDs = .allocate(capacity: capacity)
        coordinator.consumer = self
    }

    deinit {
        // No Swift handler may run while the object is being torn down; the coordinator still
        // (un)assigns as librdkafka requires if the destroy below closes the consumer.
        coordinator.handler = nil
        coordinator.consumer = nil
        rd_kafka_queue_destroy(queue)
        topics.release()
        rd_kafka_destroy(handle)
        messages.deallocate()
        topicIDs.deallocate()
    }

    // MARK: Group and assignment

    /// Joins the consumer group and subscribes to `topics`; partitions arrive through the rebalance hook.
    /// - Throws: ``KafkaError`` if the subscription is invalid.
    public func subscribe(topics: [String]) throws(KafkaError) {
        let list = NativePartitionList(capacity: topics.count)
        for topic in topics { _ = rd_kafka_topic_partition_list_add(list.pointer, topic, RD_KAFKA_PARTITION_UA) }
        try KafkaError.check(rd_kafka_subscribe(handle, list.pointer), while: "subscribing to \(topics)")
    }

    /// Leaves the subscription (the rebalance hook sees the revoke in the next poll).
    public func unsubscribe() throws(KafkaError) {
        try KafkaError.check(rd_kafka_unsubscribe(handle), while: "unsubscribing")
    }

    /// Assigns exactly these partitions at these offsets, without a group rebalance (replaces the
    /// previous manual assignment). An empty dictionary unassigns everything.
    public func assign(_ offsets: [KafkaTopicPartition: KafkaOffset]) throws(KafkaError) {
        let list = NativePartitionList(offsets)
        try KafkaError.check(rd_kafka_assign(handle, list.pointer), while: "assigning \(offsets.keys.sorted { $0.description < $1.description })")
    }

    /// The partitions currently assigned to this consumer.
    public func assignment() throws(KafkaError) -> [KafkaTopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        try KafkaError.check(rd_kafka_assignment(handle, &list), while: "reading the assignment")
        return NativePartitionList(adopting: list!).partitions
    }

    /// Whether the current assignment was lost (session timeout, fencing) rather than revoked
    /// (`rd_kafka_assignment_lost`).
    public var isAssignmentLost: Bool { rd_kafka_assignment_lost(handle) != 0 }

    /// The rebalance protocol in use: `"EAGER"`, `"COOPERATIVE"`, or `"NONE"` before the first join
    /// (and when librdkafka cannot tell, as while the consumer closes).
    public var rebalanceProtocol: String {
        let name: UnsafePointer<CChar>? = rd_kafka_rebalance_protocol(handle)
        return name.map { String(cString: $0) } ?? "NONE"
    }

    /// The brokers and topics of the cluster, or of `topics` only, asked over this consumer's own
    /// connections: a client that reads anyway need not start a ``KafkaAdmin`` (a second handle,
    /// its threads and connections) just to learn the partitions. Never creates a topic.
    /// - Throws: ``KafkaError`` (`_TIMED_OUT` if no broker answers within `timeout`).
    public func metadata(topics: [String]? = nil, timeout: Duration) throws(KafkaError) -> KafkaClusterMetadata {
        try readNativeMetadata(handle, topics: topics, timeout: timeout)
    }

    /// The group's metadata, for ``KafkaProducer/sendOffsetsToTransaction(_:groupMetadata:timeout:)``.
    public func groupMetadata() throws(KafkaError) -> KafkaConsumerGroupMetadata {
        guard let metadata = rd_kafka_consumer_group_metadata(handle) else {
            throw KafkaError(code: .state, message: "reading the group metadata failed: the consumer has no group. Set groupID.")
        }
        defer { rd_kafka_consumer_group_metadata_destroy(metadata) }
        return try KafkaConsumerGroupMetadata(metadata)
    }

    // MARK: Polling

    /// Waits up to `timeout` for records, then passes up to `maxMessages` of them, as one batch, to `body`.
    ///
    /// The first record is awaited with `rd_kafka_consumer_poll(timeout)`; then whatever else is
    /// already queued is drained without waiting (`rd_kafka_consume_batch_queue` with timeout 0),
    /// because `rd_kafka_consume_batch_queue` with a timeout waits the whole timeout unless the
    /// batch fills. An empty batch means the timeout passed with nothing to read.
    ///
    /// Rebalance callbacks (see ``KafkaRebalanceHandler``) and commit results fire inside this call,
    /// on this thread, before `body` runs. When `body` returns, the batch's messages are destroyed.
    ///
    /// While records stream in, batches hold what librdkafka has fetched since the last poll (hundreds
    /// to thousands of records); when it has prefetched more, batches fill up to `maxMessages`. Pass a
    /// `fillTimeout` to trade latency for fuller batches.
    ///
    /// - Parameters:
    ///   - maxMessages: the most records in the batch (e.g. 10,000).
    ///   - timeout: how long to wait for the first record.
    ///   - fillTimeout: after the first record, how long to wait for the batch to fill; `.zero`
    ///     (default) takes only what is already queued. A non-zero value always waits it out unless
    ///     the batch fills (`rd_kafka_consume_batch_queue` semantics).
    ///   - body: reads the batch; must not let records or buffers escape.
    /// - Returns: what `body` returns.
    /// - Throws: ``KafkaError`` (`isFatal`) when the consumer hit a fatal error or is closed, or what `body` throws.
    ///   Per-partition errors and end-of-partition markers are in ``KafkaRecordBatch/events`` instead.
    public func poll<Result>(
        maxMessages: Int = 10_000,
        timeout: Duration,
        fillTimeout: Duration = .zero,
        _ body: (KafkaRecordBatch) throws -> Result
    ) throws -> Result {
        precondition(maxMessages > 0, "maxMessages must be positive")
        // The batch borrows this consumer's message buffer: a nested poll would overwrite it.
        precondition(!isPolling, "poll called from inside a poll closure or a rebalance handler")
        isPolling = true
        defer { isPolling = false }
        guard !isClosed else {
            throw KafkaError(code: .state, message: "polling a closed consumer. Create a new consumer.")
        }
        reserve(maxMessages)
        events.removeAll(keepingCapacity: true)
        var received = 0
        if let first = rd_kafka_consumer_poll(handle, milliseconds(timeout)) {
            messages[0] = first
            received = 1
            if maxMessages > 1 {
                let drained = rd_kafka_consume_batch_queue(queue, milliseconds(fillTimeout), messages + 1, maxMessages - 1)
                if drained > 0 { received += drained }
            }
        }
        events += coordinator.takeEvents()

        // Keep good records at the front; turn errors and EOF markers into events.
        var count = 0
        var fatal: KafkaError?
        for index in 0 ..< received {
            let message = messages[index]!
            if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                messages[count] = message
                topicIDs[count] = topics.id(for: message.pointee.rkt, client: handle)
                count += 1
            } else {
                if let error = event(for: message) { fatal = error }
                rd_kafka_message_destroy(message)
            }
        }
        defer {
            for index in 0 ..< count { rd_kafka_message_destroy(messages[index]) }
        }
        if let fatal { throw fatal }
        let batch = KafkaRecordBatch(messages: messages, topicIDs: topicIDs, count: count, topics: topics, events: events)
        return try body(batch)
    }

    /// The name of a topic id from this consumer's batches.
    public func topicName(_ id: KafkaTopicID) -> String { topics.names[Int(id.index)] }

    /// Records an error or EOF message as an event; returns a fatal error to throw.
    private func event(for message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaError? {
        let err = message.pointee.err
        var topicPartition: KafkaTopicPartition?
        if let topic = message.pointee.rkt {
            topicPartition = KafkaTopicPartition(topic: String(cString: rd_kafka_topic_name(topic)), partition: message.pointee.partition)
        }
        if err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
            events.append(KafkaConsumerEvent(topicPartition: topicPartition, kind: .endOfPartition(offset: message.pointee.offset)))
            return nil
        }
        let detail = String(cString: rd_kafka_message_errstr(message))
        let code = KafkaError.Code(err)
        if err == RD_KAFKA_RESP_ERR__FATAL {
            var text = [CChar](repeating: 0, count: 512)
            let cause = rd_kafka_fatal_error(handle, &text, text.count)
            let reason = string(fromErrorBuffer: text)
            return KafkaError(code: cause == RD_KAFKA_RESP_ERR_NO_ERROR ? .fatal : KafkaError.Code(cause),
                              message: "the consumer hit a fatal error: \(reason.isEmpty ? detail : reason). Create a new consumer.",
                              isFatal: true)
        }
        var text = "consuming failed: \(detail)"
        if code == .unknownTopic || code == .localUnknownTopic {
            text += ". Create the topic or fix the subscription"
        }
        let partition = topicPartition.flatMap { $0.partition >= 0 ? $0.partition : nil }
        let error = KafkaError(code: code, message: text, isRetriable: KafkaError.isRetriableByDefault(code),
                               topic: topicPartition?.topic, partition: partition)
        events.append(KafkaConsumerEvent(topicPartition: topicPartition, kind: .error(error)))
        return nil
    }

    private func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        messages.deallocate()
        topicIDs.deallocate()
        capacity = needed
        messages = .allocate(capacity: capacity)
        topicIDs = .allocate(capacity: capacity)
    }

    // MARK: Closing

    /// Leaves the group (the rebalance hook sees the final revoke, on this thread) and stops fetching.
    ///
    /// Blocks until the group leave is done (`rd_kafka_consumer_close`). After it, only deinit is valid.
    public func close() throws(KafkaError) {
        guard !isClosed else { return }
        isClosed = true
        let err = rd_kafka_consumer_close(handle)
        coordinator.handler = nil
        try KafkaError.check(err, while: "closing the consumer")
    }
}
