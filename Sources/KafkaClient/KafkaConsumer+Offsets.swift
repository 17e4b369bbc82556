internal import CRdKafka

extension KafkaConsumer {
    /// How ``commit(_:mode:)`` waits.
    public enum CommitMode: Sendable {
        /// Return at once; a failure is reported as ``KafkaConsumerEvent/Kind/commitFailed(_:)`` in a later poll.
        case async
        /// Block until the coordinator answers.
        case sync
    }

    /// Commits explicit offsets to the group: for each partition, the offset of the *next* record to
    /// read (last processed + 1).
    /// - Throws: ``KafkaError`` if the commit cannot be sent (or, with ``CommitMode/sync``, fails).
    public func commit(_ offsets: [KafkaTopicPartition: Int64], mode: CommitMode = .async) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = NativePartitionList(offsets.mapValues { KafkaOffset($0) })
        try KafkaError.check(rd_kafka_commit(handle, list.pointer, mode == .async ? 1 : 0), while: "committing offsets",
                             advice: "the group may be rebalancing; the next commit will carry newer offsets")
        if mode == .sync { _ = try list.offsets(while: "committing offsets") }
    }

    /// The group's committed offsets (next offset to read) for `partitions`; partitions with none are absent.
    /// - Throws: ``KafkaError`` `_TIMED_OUT` if the coordinator does not answer within `timeout`.
    public func committed(_ partitions: [KafkaTopicPartition], timeout: Duration) throws(KafkaError) -> [KafkaTopicPartition: Int64] {
        let list = NativePartitionList(partitions)
        try KafkaError.check(rd_kafka_committed(handle, list.pointer, milliseconds(timeout)), while: "reading committed offsets")
        return try list.offsets(while: "reading committed offsets").compactMapValues { $0.isConcrete ? $0.rawValue : nil }
    }

    /// The consumer's position (the offset of the next record it will return) for `partitions`;
    /// partitions without a position yet are absent.
    public func position(_ partitions: [KafkaTopicPartition]) throws(KafkaError) -> [KafkaTopicPartition: Int64] {
        let list = NativePartitionList(partitions)
        try KafkaError.check(rd_kafka_position(handle, list.pointer), while: "reading positions")
        return try list.offsets(while: "reading positions").compactMapValues { $0.isConcrete ? $0.rawValue : nil }
    }

    /// Moves an assigned partition's position; the next records returned for it start at `offset`.
    ///
    /// Records of the partition already fetched before the seek are discarded (librdkafka's version barrier).
    /// - Throws: ``KafkaError`` naming the partition (e.g. `_STATE` if it is not assigned).
    public func seek(_ partition: KafkaTopicPartition, to offset: KafkaOffset, timeout: Duration) throws(KafkaError) {
        let list = NativePartitionList(capacity: 1)
        list.add(partition, offset: offset)
        try KafkaError.check(rd_kafka_seek_partitions(handle, list.pointer, milliseconds(timeout)), while: "seeking \(partition) to \(offset)")
        if let element = list.elements.first, element.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(element.err, while: "seeking \(partition) to \(offset)",
                             advice: "seek only partitions this consumer has assigned", topic: partition.topic, partition: partition.partition)
        }
    }

    /// Stops fetching `partitions` until ``resume(_:)``; records already fetched for them are discarded.
    public func pause(_ partitions: [KafkaTopicPartition]) throws(KafkaError) {
        let list = NativePartitionList(partitions)
        try KafkaError.check(rd_kafka_pause_partitions(handle, list.pointer), while: "pausing \(partitions)")
        _ = try list.offsets(while: "pausing")
    }

    /// Resumes fetching paused `partitions` from their current position.
    public func resume(_ partitions: [KafkaTopicPartition]) throws(KafkaError) {
        let list = NativePartitionList(partitions)
        try KafkaError.check(rd_kafka_resume_partitions(handle, list.pointer), while: "resuming \(partitions)")
        _ = try list.offsets(while: "resuming")
    }

    /// The records (and events) fetched ahead and not yet polled: the length of the consumer
    /// queue every assigned partition's records go to. One lock, no request.
    public var queuedMessages: Int { Int(rd_kafka_queue_length(queue)) }

    /// Wakes the fetchers of the brokers leading `partitions` (give one partition per leader), so
    /// each decides again at once whether to fetch.
    ///
    /// librdkafka 2.0.2 stops fetching while its queue holds `queued.min.messages` records or
    /// `queued.max.messages.kbytes` bytes, and a broker's thread that stopped looks again only
    /// when something wakes it, else after up to a second (issue #2879; 2.1 made the wait
    /// `fetch.queue.backoff.ms`). A consumer that keeps few records ahead drains them in less, and
    /// waits. A request to a broker wakes its thread: this asks each for the latest offset of its
    /// partition (one small ListOffsets per leader, in parallel) and waits for the answers, one
    /// round trip. Pausing and resuming a partition would wake it too, but a pause discards the
    /// records already fetched for it and a resume of a partition not paused rewinds it.
    /// - Throws: ``KafkaError`` (e.g. `_TIMED_OUT`); the fetchers may still have woken.
    public func wakeFetchers(leading partitions: [KafkaTopicPartition], timeout: Duration) throws(KafkaError) {
        guard !partitions.isEmpty else { return }
        _ = try offsets(forTimes: Dictionary(partitions.map { ($0, KafkaOffset.end.rawValue) }, uniquingKeysWith: { $1 }),
                        timeout: timeout)
    }

    /// Asks the partition leader for the low and high watermarks.
    /// - Throws: ``KafkaError`` (e.g. `_TIMED_OUT`, `UNKNOWN_TOPIC_OR_PART`) naming the partition.
    public func watermarks(_ partition: KafkaTopicPartition, timeout: Duration) throws(KafkaError) -> KafkaWatermarks {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_query_watermark_offsets(handle, partition.topic, partition.partition, &low, &high, milliseconds(timeout))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, while: "querying the watermarks of \(partition)", topic: partition.topic, partition: partition.partition)
        }
        return KafkaWatermarks(low: low, high: high)
    }

    /// The watermarks librdkafka last learned from fetch responses, without a request; nil if not yet known.
    ///
    /// The high watermark is refreshed by every fetch of an assigned partition; the low one only
    /// by some (it can be -1 while the high is known, which is reported as nil).
    public func cachedWatermarks(_ partition: KafkaTopicPartition) -> KafkaWatermarks? {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_get_watermark_offsets(handle, partition.topic, partition.partition, &low, &high)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return KafkaWatermarks(low: max(low, 0), high: high)
    }

    /// For each partition, the earliest offset whose timestamp is at or after the given time
    /// (milliseconds since the Unix epoch).
    ///
    /// A partition maps to nil when the broker has no such offset: the time is after the newest
    /// record, or the broker does not support the lookup. librdkafka 2.0.2's mock cluster always
    /// answers -1, so against it every partition maps to nil; callers should fall back (e.g. to
    /// ``KafkaOffset/end`` or to scanning) rather than trust an offset.
    /// - Throws: ``KafkaError`` if the lookup fails or times out.
    public func offsets(forTimes times: [KafkaTopicPartition: Int64], timeout: Duration) throws(KafkaError) -> [KafkaTopicPartition: Int64?] {
        let list = NativePartitionList(times.mapValues { KafkaOffset($0) })
        try KafkaError.check(rd_kafka_offsets_for_times(handle, list.pointer, milliseconds(timeout)), while: "looking up offsets for times")
        var result: [KafkaTopicPartition: Int64?] = [:]
        for (partition, offset) in try list.offsets(while: "looking up offsets for times") {
            result[partition] = .some(offset.isConcrete ? offset.rawValue : nil)
        }
        return result
    }
}
