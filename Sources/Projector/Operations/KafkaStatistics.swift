internal import Foundation

/// The parts of librdkafka's statistics JSON (`statistics.interval.ms`) that matter for operating
/// a worker: round trips to each broker, the local fetch queues, and the lag librdkafka sees.
public struct KafkaStatistics: Sendable {
    /// One partition as librdkafka sees it.
    public struct Partition: Sendable {
        /// The topic.
        public var topic: String
        /// The partition.
        public var partition: Int32
        /// Messages fetched and waiting in librdkafka's queue (`fetchq_cnt`).
        public var fetchQueueMessages: Int64
        /// Bytes fetched and waiting (`fetchq_size`).
        public var fetchQueueBytes: Int64
        /// librdkafka's own lag (`consumer_lag`: end offset minus its committed offset; -1 unknown).
        public var consumerLag: Int64
    }

    /// Average round trip per broker (`brokers[].rtt.avg`), in seconds, by broker name.
    public var brokerRoundTrip: [String: Double] = [:]
    /// The assigned partitions.
    public var partitions: [Partition] = []

    /// Parses librdkafka's statistics JSON; nil when it is not the expected shape.
    init?(json: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
        for case let (name, broker as [String: Any]) in object["brokers"] as? [String: Any] ?? [:] {
            // Bootstrap and internal entries have no node id; their round trips are not a broker's.
            guard (broker["nodeid"] as? Int ?? -1) >= 0, let rtt = broker["rtt"] as? [String: Any],
                  let average = (rtt["avg"] as? NSNumber)?.doubleValue, (rtt["cnt"] as? Int ?? 0) > 0 else { continue }
            brokerRoundTrip[name] = average / 1_000_000
        }
        for case let (topic, entry as [String: Any]) in object["topics"] as? [String: Any] ?? [:] {
            for case let (_, partition as [String: Any]) in entry["partitions"] as? [String: Any] ?? [:] {
                guard let id = partition["partition"] as? Int, id >= 0,
                      (partition["fetch_state"] as? String).map({ $0 != "none" }) ?? false else { continue }
                partitions.append(Partition(
                    topic: topic, partition: Int32(id), fetchQueueMessages: Self.int(partition["fetchq_cnt"]),
                    fetchQueueBytes: Self.int(partition["fetchq_size"]), consumerLag: Self.int(partition["consumer_lag"])))
            }
        }
        partitions.sort { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    private static func int(_ value: Any?) -> Int64 { (value as? NSNumber)?.int64Value ?? -1 }
}
