internal import KafkaClient
internal import Views
internal import ProjectorModel

extension Checkpoint {
    /// The Kafka partition the checkpoint is for.
    var topicPartition: KafkaTopicPartition { KafkaTopicPartition(topic: topic, partition: partition) }
}

extension Dictionary where Key == KafkaTopicPartition, Value == Int64 {
    /// The next offset of each checkpoint's partition (a later checkpoint of a partition wins).
    init(nextOffsets checkpoints: some Sequence<Checkpoint>) {
        self.init()
        for checkpoint in checkpoints { self[checkpoint.topicPartition] = checkpoint.nextOffset }
    }
}
