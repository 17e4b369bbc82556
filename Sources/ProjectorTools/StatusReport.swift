public import Projector
internal import KafkaClient
public import Views
internal import ProjectorModel
internal import Foundation

/// What `projector status` reports: per pipeline its identity and checkpoints, and with brokers the
/// high watermark and lag of each checkpointed partition.
///
/// Its JSON form (`status --json`) is a contract:
/// `{"pipelines":[{"name","version","hash","dead_letters","unpublished_dead_letters","outbox_records","oldest_unsent_age_seconds","pending_timers","counters","ignored_types","checkpoints":[{"topic","partition","next_offset","high_watermark","lag","status"}]}]}`;
/// the last three keys appear only when brokers were given; `counters` maps each event outcome
/// (applied, filtered, deduplicated, ignored_type, skipped, dead_lettered, parked) to its count, and
/// `ignored_types` the `ignored_type` events by their type name.
public struct StatusReport: Sendable, Encodable {
    /// One checkpointed partition.
    public struct Partition: Sendable, Encodable {
        /// The topic.
        public var topic: String
        /// The partition.
        public var partition: Int32
        /// The next offset the pipeline will apply.
        public var nextOffset: Int64
        /// The partition's high watermark, when brokers were asked.
        public var highWatermark: Int64?
        /// Messages not yet applied (`high_watermark - next_offset`), when brokers were asked.
        public var lag: Int64?
        /// Burrow's status over the samples seen so far (``judge(with:)``), when brokers were asked.
        public var status: PartitionStatus?

        enum CodingKeys: String, CodingKey {
            case topic, partition, nextOffset = "next_offset", highWatermark = "high_watermark", lag, status
        }
    }

    /// One pipeline.
    public struct Entry: Sendable, Encodable {
        /// The pipeline name.
        public var name: String
        /// Its version.
        public var version: Int
        /// The hash of the definition that built its views.
        public var hash: String
        /// Its dead letters.
        public var deadLetters: Int
        /// Its dead letters not yet produced to its dead-letter topic.
        public var unpublishedDeadLetters: Int
        /// Its emitted records not yet produced (`emit:`), or nil when it emits nothing.
        public var outboxRecords: Int?
        /// The age in seconds of the oldest of them, from the timestamp of the event that emitted
        /// it, or nil when there is none.
        public var oldestUnsentAgeSeconds: Double?
        /// Its timers not yet fired (`schedule:`), or nil when it has none.
        public var pendingTimers: Int?
        /// Its event counts by outcome name (``EventOutcome``), as stored with the views.
        public var counters: [String: Int64]
        /// Its events of a type without handler (`on_unknown_type: ignore`), by type name.
        public var ignoredTypes: [String: Int64]
        /// Its checkpoints.
        public var checkpoints: [Partition]

        enum CodingKeys: String, CodingKey {
            case name, version, hash, deadLetters = "dead_letters", unpublishedDeadLetters = "unpublished_dead_letters", counters,
                 ignoredTypes = "ignored_types", checkpoints, outboxRecords = "outbox_records",
                 oldestUnsentAgeSeconds = "oldest_unsent_age_seconds", pendingTimers = "pending_timers"
        }
    }

    /// Every pipeline in the store.
    public var pipelines: [Entry]
    /// Checkpointed topics the brokers do not have (not part of the JSON form).
    public var missingTopics: [String] = []

    enum CodingKeys: String, CodingKey {
        case pipelines
    }

    /// Reads the store, and the brokers' high watermarks when `brokers` is given.
    ///
    /// Only partitions of topics the cluster has are asked about (a watermark query names its topic,
    /// which a broker with `auto.create.topics.enable` would create): the others keep no high
    /// watermark and no lag.
    /// - Throws: ``ProjectorError`` `.database` or `.broker`.
    public static func make(store: any ViewStoreReader, brokers: String?, properties: [String: String] = [:]) throws(ProjectorError) -> StatusReport {
        let statuses: [PipelineStatus]
        var counters: [String: [String: Int64]] = [:]
        var ignoredTypes: [String: [String: Int64]] = [:]
        do {
            statuses = try store.pipelines()
            for status in statuses {
                let stored = try store.counters(pipeline: status.name)
                counters[status.name] = outcomeCounts(stored)
                ignoredTypes[status.name] = ignoredTypeCounts(stored)
            }
        } catch {
            throw ProjectorError(code: .database, message: "status: \(error)")
        }
        let now = Date().timeIntervalSince1970
        var report = StatusReport(pipelines: statuses.map { status in
            Entry(name: status.name, version: status.version, hash: status.hash, deadLetters: status.deadLetters,
                  unpublishedDeadLetters: status.unpublishedDeadLetters,
                  outboxRecords: status.hasOutbox ? status.outboxRecords : nil,
                  oldestUnsentAgeSeconds: status.oldestUnsentTimestamp.map { max(0, now - Double($0) / 1_000) },
                  pendingTimers: status.pendingTimers,
                  counters: counters[status.name] ?? [:],
                  ignoredTypes: ignoredTypes[status.name] ?? [:], checkpoints: status.checkpoints.map {
                Partition(topic: $0.topic, partition: $0.partition, nextOffset: $0.nextOffset)
            })
        })
        guard let brokers else { return report }
        do {
            let topics = Set(report.pipelines.flatMap { $0.checkpoints.map(\.topic) })
            guard !topics.isEmpty else { return report }
            let metadata = try KafkaAdmin(bootstrapServers: brokers, additionalProperties: properties)
                .metadata(topics: Array(topics), timeout: .seconds(10))
            var configuration = KafkaConsumerConfiguration(bootstrapServers: brokers)
            configuration.additionalProperties = properties
            report.missingTopics = topics.filter { metadata.topic(named: $0) == nil }.sorted()
            let consumer = try KafkaConsumer(configuration: configuration)
            for pipeline in report.pipelines.indices {
                for index in report.pipelines[pipeline].checkpoints.indices {
                    let checkpoint = report.pipelines[pipeline].checkpoints[index]
                    guard let topic = metadata.topic(named: checkpoint.topic),
                          topic.partitions.contains(where: { $0.id == checkpoint.partition }) else { continue }
                    let watermarks = try consumer.watermarks(
                        KafkaTopicPartition(topic: checkpoint.topic, partition: checkpoint.partition), timeout: .seconds(10))
                    report.pipelines[pipeline].checkpoints[index].highWatermark = watermarks.high
                    report.pipelines[pipeline].checkpoints[index].lag = max(0, watermarks.high - checkpoint.nextOffset)
                }
            }
            try consumer.close()
        } catch {
            throw ProjectorError(code: .broker, message: "status: \(error)")
        }
        return report
    }


    /// Fills each partition's ``Partition/status`` from this sample; pass the same judge to every
    /// later report (`status --watch`) so the rules see the window.
    public mutating func judge(with judge: inout PartitionStatusJudge) {
        for pipeline in pipelines.indices {
            for index in pipelines[pipeline].checkpoints.indices {
                let partition = pipelines[pipeline].checkpoints[index]
                guard let lag = partition.lag else { continue }
                pipelines[pipeline].checkpoints[index].status = judge.status(
                    topic: "\(pipelines[pipeline].name)/\(partition.topic)", partition: partition.partition,
                    checkpoint: partition.nextOffset, lag: lag)
            }
        }
    }

    /// The stored counters (`_projector_counters` names) by ``EventOutcome`` name, every outcome present.
    private static func outcomeCounts(_ stored: [String: Int64]) -> [String: Int64] {
        var counts: [String: Int64] = [:]
        for outcome in EventOutcome.allCases {
            let name = outcome == .ignoredType ? "ignored_unknown_type" : outcome.rawValue
            counts[outcome.rawValue] = stored[name] ?? 0
        }
        return counts
    }

    /// The stored per-type counters of ignored events, by type name.
    private static func ignoredTypeCounts(_ stored: [String: Int64]) -> [String: Int64] {
        let prefix = BatchApplier.ignoredTypeCounterPrefix
        var counts: [String: Int64] = [:]
        for (name, count) in stored where name.hasPrefix(prefix) { counts[String(name.dropFirst(prefix.count))] = count }
        return counts
    }
}
