internal import KafkaClient
internal import Logging
internal import Pipelines
internal import ProjectorModel

/// What the worker and the rebuild do alike around one applied batch: turn Kafka records into the
/// plan's messages, log what a poll reported, and report the batch's outcome.
///
/// The two differ in which records they apply (the rebuild stops each partition at its target)
/// and in what they do with a failure, so each keeps its own loop and calls these.
enum BatchStep {
    /// Logs the skipped events of a batch under `on_error: skip` and throws the event that stopped
    /// it under `on_error: fail`.
    /// - Parameters:
    ///   - outcome: the applied batch.
    ///   - projection: its projection.
    ///   - logger: where skipped events go, with their topic, partition and offset as metadata.
    ///   - subject: how messages name the run, such as `pipeline orders` or `rebuild orders`.
    ///   - hint: what to do about a failed event, appended to its message.
    static func report(
        _ outcome: BatchApplier.Outcome, projection: any Projection, logger: Logger, subject: String, hint: String
    ) throws(ProjectorError) {
        if projection.errorPolicy == .skip {
            for error in outcome.failedEvents {
                let topic = projection.topics[error.topic]
                logger.warning(
                    "\(subject): skipped \(topic) partition \(error.partition) offset \(error.offset): \(error.code): \(error.message)",
                    metadata: position(topic: topic, partition: error.partition, offset: error.offset))
            }
        }
        if let (error, topic) = outcome.failure {
            throw ProjectorError(
                code: .eventFailed,
                message: "\(subject): topic \(topic) partition \(error.partition) offset \(error.offset): "
                    + "\(error.code): \(error.message) (\(hint))",
                pipeline: projection.name, underlying: error)
        }
    }

    /// Logs the errors a poll reported; librdkafka retries them.
    static func log(_ events: [KafkaConsumerEvent], logger: Logger, subject: String) {
        for event in events {
            if case .error(let error) = event.kind { logger.warning("\(subject): \(error)") }
        }
    }

    /// The metadata that places a log line at a message.
    static func position(topic: String, partition: Int32, offset: Int64? = nil) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["topic": .string(topic), "partition": .stringConvertible(partition)]
        if let offset { metadata["offset"] = .stringConvertible(offset) }
        return metadata
    }
}

extension RawMessage {
    /// The plan's view of a Kafka record: its borrowed key and value, valid while its batch lives.
    init(_ record: KafkaRecord, topic: Int) {
        self.init(
            key: record.key, value: record.value, topic: topic, partition: record.partition, offset: record.offset,
            timestamp: record.timestamp?.milliseconds)
    }
}
