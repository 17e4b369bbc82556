internal import CRdKafka

extension KafkaProducer {
    /// Registers the `transactional.id` with its coordinator and fences older producers with the same id.
    /// Call once, before the first ``beginTransaction()``.
    /// - Throws: ``KafkaError``; if `isRetriable`, call again.
    public func initTransactions(timeout: Duration) throws(KafkaError) {
        try KafkaError.check(rd_kafka_init_transactions(handle, milliseconds(timeout)), while: "initializing transactions",
                             advice: "set transactionalID in the configuration and check the brokers")
    }

    /// Starts a transaction: the messages sent until commit or abort are written atomically.
    public func beginTransaction() throws(KafkaError) {
        try KafkaError.check(rd_kafka_begin_transaction(handle), while: "beginning a transaction")
    }

    /// Adds consumer offsets (next offset to read, per partition) to the current transaction, so they
    /// commit if and only if the transaction does.
    public func sendOffsetsToTransaction(
        _ offsets: [KafkaTopicPartition: Int64],
        groupMetadata: KafkaConsumerGroupMetadata,
        timeout: Duration
    ) throws(KafkaError) {
        let list = NativePartitionList(offsets.mapValues { KafkaOffset($0) })
        let metadata = try groupMetadata.makeNative()
        defer { rd_kafka_consumer_group_metadata_destroy(metadata) }
        try KafkaError.check(rd_kafka_send_offsets_to_transaction(handle, list.pointer, metadata, milliseconds(timeout)),
                             while: "sending offsets to the transaction")
    }

    /// Flushes the transaction's messages and commits it.
    ///
    /// Delivery reports collected while flushing come back from the next ``pollDeliveryReports(timeout:)``.
    /// - Throws: ``KafkaError``: if `isTransactionAbortRequired`, call ``abortTransaction(timeout:)``;
    ///   if `isRetriable`, call commit again; if `isFatal`, recreate the producer.
    public func commitTransaction(timeout: Duration) throws(KafkaError) {
        // In event mode rd_kafka_commit_transaction's internal flush cannot serve delivery reports,
        // so they are served here first (rdkafka.h, rd_kafka_commit_transaction remarks).
        try flush(timeout: timeout)
        try KafkaError.check(rd_kafka_commit_transaction(handle, milliseconds(timeout)), while: "committing the transaction")
    }

    /// Aborts the current transaction; its messages are purged (reports with `_PURGE_QUEUE`) or
    /// written as aborted.
    public func abortTransaction(timeout: Duration) throws(KafkaError) {
        // Like commit, rd_kafka_abort_transaction waits for outstanding messages whose reports only
        // this thread can serve: purge what is still queued, serve the reports of the rest, then abort.
        _ = rd_kafka_purge(handle, RD_KAFKA_PURGE_F_QUEUE)
        try flush(timeout: timeout)
        try KafkaError.check(rd_kafka_abort_transaction(handle, milliseconds(timeout)), while: "aborting the transaction")
    }
}
