/// Decides where newly assigned partitions start and learns about revoked ones, synchronously,
/// on the thread that polls the consumer.
///
/// librdkafka calls its rebalance callback from inside `rd_kafka_consumer_poll` /
/// `rd_kafka_consume_batch_queue` (and `rd_kafka_consumer_close`) on the caller's thread, and the
/// group rebalance does not go on until the callback has (un)assigned. ``KafkaConsumer`` forwards
/// that callback here, so:
/// - ``consumer(_:didAssign:)`` runs before any record of the new partitions is returned, and the
///   consumer starts each partition at exactly the offset you return;
/// - ``consumer(_:willRevoke:isLost:)`` runs before the partitions are given up, so no other group
///   member can read them until it returns (unless `isLost`: then they may already be elsewhere).
///
/// Both run inside ``KafkaConsumer/poll(maxMessages:timeout:fillTimeout:_:)`` (or ``KafkaConsumer/close()``),
/// never concurrently with your batch closure. They may call the consumer's offset and position
/// methods, but must not poll.
///
/// With an eager strategy (`range`, `roundrobin`) every rebalance revokes everything and assigns the
/// new full set; with `cooperative-sticky` only moved partitions are revoked or assigned.
///
/// ```swift
/// final class CheckpointLoader: KafkaRebalanceHandler {
///     func consumer(_ consumer: KafkaConsumer, didAssign partitions: [KafkaTopicPartition]) -> [KafkaTopicPartition: KafkaOffset] {
///         store.checkpoints(for: partitions).mapValues { KafkaOffset($0) }   // missing = committed/auto.offset.reset
///     }
///     func consumer(_ consumer: KafkaConsumer, willRevoke partitions: [KafkaTopicPartition], isLost: Bool) {
///         pipeline.finishInFlightWork(for: partitions)
///     }
/// }
/// ```
public protocol KafkaRebalanceHandler: AnyObject {
    /// Partitions were assigned to this member; return the offset each should start at.
    ///
    /// A partition missing from the result starts at the group's committed offset, or at
    /// `auto.offset.reset` without one. ``KafkaOffset/beginning`` and ``KafkaOffset/end`` work too.
    func consumer(_ consumer: KafkaConsumer, didAssign partitions: [KafkaTopicPartition]) -> [KafkaTopicPartition: KafkaOffset]

    /// Partitions are about to be taken away (or were lost, if `isLost`: the session timed out or
    /// the member was fenced, and another member may already own them).
    func consumer(_ consumer: KafkaConsumer, willRevoke partitions: [KafkaTopicPartition], isLost: Bool)
}
