import Foundation
import KafkaClient

/// The Kafka timestamps of the oldest and newest records of some topics, for a rebuild `--until
/// TIME` that read nothing: the time is compared with these, not with a time inside the events.
struct RecordTimeSpan {
    var oldest: Int64
    var newest: Int64

    /// Reads the first and the last record of every non-empty partition; nil when there is none.
    static func of(topics: [String], brokers: String, properties: [String: String]) -> RecordTimeSpan? {
        let administration = TopicAdministration(brokers: brokers, properties: properties)
        var configuration = KafkaConsumerConfiguration(bootstrapServers: brokers)
        configuration.additionalProperties = ["log_level": "2", "enable.auto.commit": "false"].merging(properties) { $1 }
        guard let consumer = try? KafkaConsumer(configuration: configuration) else { return nil }
        defer { try? consumer.close() }
        var firsts: [KafkaTopicPartition: KafkaOffset] = [:]
        var lasts: [KafkaTopicPartition: KafkaOffset] = [:]
        for topic in topics {
            guard let count = try? administration.partitionCount(of: topic) else { continue }
            for partition in 0 ..< Int32(count) {
                let id = KafkaTopicPartition(topic: topic, partition: partition)
                guard let marks = try? consumer.watermarks(id, timeout: .seconds(5)), marks.high > marks.low else { continue }
                firsts[id] = KafkaOffset(marks.low)
                lasts[id] = KafkaOffset(marks.high - 1)
            }
        }
        guard let oldest = timestamps(at: firsts, consumer).min(), let newest = timestamps(at: lasts, consumer).max() else { return nil }
        return RecordTimeSpan(oldest: oldest, newest: newest)
    }

    /// The timestamp of the record at each position (up to 10 s in all).
    private static func timestamps(at positions: [KafkaTopicPartition: KafkaOffset], _ consumer: KafkaConsumer) -> [Int64] {
        guard !positions.isEmpty, (try? consumer.assign(positions)) != nil else { return [] }
        var found: [KafkaTopicPartition: Int64] = [:]
        let deadline = ContinuousClock.now + .seconds(10)
        while found.count < positions.count, ContinuousClock.now < deadline {
            try? consumer.poll(maxMessages: 100, timeout: .milliseconds(200)) { batch in
                for record in batch where positions[record.topicPartition]?.rawValue == record.offset {
                    if let timestamp = record.timestamp { found[record.topicPartition] = timestamp.milliseconds }
                }
            }
        }
        return Array(found.values)
    }

    /// `2026-11-01T10:00:00.000Z (1793527200000)`.
    static func describe(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return "\(formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))) (\(milliseconds) ms)"
    }
}
