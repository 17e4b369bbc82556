internal import KafkaClient
internal import Logging
internal import Pipelines
internal import Views
internal import ProjectorModel

/// The state of one rebuild run: its consumer, and per source partition where the shadow is and
/// where the run reads to.
///
/// - Important: Owned by the thread running ``Rebuild/run(until:)``.
struct RebuildReader {
    enum CatchUp: Equatable {
        case reached
        case stopped
        case timedOut
    }

    /// Thrown inside the swap's transaction to roll it back and catch up again outside the lock.
    struct LiveMoved: Error {}

    let projection: any Projection
    let store: any ViewStore
    let options: RebuildOptions
    let onProgress: (@Sendable (RebuildProgress) -> Void)?
    let started: ContinuousClock.Instant
    /// ``RebuildOptions/logger`` with the pipeline's name as metadata.
    let logger: Logger
    let consumer: KafkaConsumer
    let applier: BatchApplier
    /// The rows folded since the shadow's last write.
    let window: RebuildWindow
    /// Where full windows are written, and rows read through the one being written.
    let shadowWrites: ShadowWindowWrites
    /// Every source partition, ordered by topic and partition.
    let partitions: [KafkaTopicPartition]
    /// One source partition per leader broker: asking each for an offset wakes its fetcher
    /// (``wakeFetchersIfDrained()``).
    let wakeTargets: [KafkaTopicPartition]
    /// When the fetchers were last woken.
    var wokeFetchers = ContinuousClock.now
    /// The slot of each (topic index, partition) in the per-partition arrays.
    let slots: [[Int]]
    let low: [Int64]
    let high: [Int64]
    /// Where this run started reading each partition.
    var start: [Int64]
    /// The next offset the shadow applies, per partition.
    var position: [Int64]
    /// The offset read up to, per partition.
    var target: [Int64]
    /// With `--until TIME`: messages with a later Kafka timestamp end their partition.
    var cutoff: Int64?
    /// Whether the consumer fetches each partition from `position` (false: paused or unassigned).
    var isFetching: [Bool]
    var messages: [RawMessage] = []
    var topics: TopicIndexes
    var events = 0
    var batches = 0
    var counters = PlanResult.Counters()
    /// The time left, fitted from this run's progress.
    var estimator = RebuildProgress.Estimator()

    init(projection: any Projection, store: any ViewStore, options: RebuildOptions,
         onProgress: (@Sendable (RebuildProgress) -> Void)?, started: ContinuousClock.Instant) throws(ProjectorError) {
        self.projection = projection
        self.store = store
        self.options = options
        self.onProgress = onProgress
        self.started = started
        self.topics = TopicIndexes(topics: projection.topics)
        let name = projection.name
        var logger = options.logger
        logger[metadataKey: "pipeline"] = .string(name)
        self.logger = logger
        applier = BatchApplier(projection: projection, store: store, target: .shadow)
        shadowWrites = ShadowWindowWrites(store: store, projection: projection)
        window = RebuildWindow(budget: RebuildWindow.budget(options.windowBytes, overlapped: shadowWrites.overlaps))
        var partitions: [KafkaTopicPartition] = []
        var slots: [[Int]] = []
        var low: [Int64] = []
        var high: [Int64] = []
        var leaders: Set<Int32> = []
        var wakeTargets: [KafkaTopicPartition] = []
        do {
            var configuration = KafkaConsumerConfiguration(bootstrapServers: options.brokers)
            configuration.clientID = "projector.rebuild.\(name)"
            configuration.autoOffsetReset = .earliest
            configuration.queuedMaxMessagesKilobytes = options.prefetchRecordBytes >> 10
            configuration.queuedMinMessages = options.prefetchRecords
            var properties = options.properties
            if properties["message.max.bytes"] == nil, properties["fetch.max.bytes"] == nil {
                properties["fetch.max.bytes"] = String(options.fetchBytes)
            }
            configuration.additionalProperties = properties
            consumer = try KafkaConsumer(configuration: configuration)
            // Over the consumer's connection (no admin client of its own); asks for every topic, as a
            // request naming a missing topic would create it.
            let metadata = try consumer.metadata(topics: projection.topics, timeout: .seconds(10))
            for topic in projection.topics {
                guard let found = metadata.topic(named: topic), found.error == nil, !found.partitions.isEmpty else {
                    throw ProjectorError(
                        code: .broker,
                        message: "rebuild \(name): the brokers have no topic \(topic); create it or fix source.topics")
                }
                var topicSlots: [Int] = Array(repeating: -1, count: Int(found.partitions.map(\.id).max() ?? 0) + 1)
                for partition in found.partitions {
                    topicSlots[Int(partition.id)] = partitions.count
                    partitions.append(KafkaTopicPartition(topic: topic, partition: partition.id))
                    if leaders.insert(partition.leader).inserted {
                        wakeTargets.append(KafkaTopicPartition(topic: topic, partition: partition.id))
                    }
                }
                slots.append(topicSlots)
            }
            (low, high) = try Self.watermarks(of: partitions, consumer: consumer)
        } catch {
            throw ProjectorError(wrapping: error, doing: "rebuild \(name)")
        }
        self.partitions = partitions
        self.wakeTargets = wakeTargets
        self.slots = slots
        self.low = low
        self.high = high
        start = low
        position = low
        target = low
        isFetching = Array(repeating: false, count: partitions.count)
    }

    func close() {
        try? consumer.close()
    }

    /// The low and high watermarks of every partition, in order: all partitions in one lookup
    /// per end (ListOffsets for the earliest and latest offsets, one request per leader), where
    /// asking per partition takes two round trips each (256 partitions: seconds on a busy broker).
    /// Falls back to asking per partition when the batched lookup leaves any out.
    static func watermarks(of partitions: [KafkaTopicPartition], consumer: KafkaConsumer) throws -> (low: [Int64], high: [Int64]) {
        let earliest = try? consumer.offsets(
            forTimes: Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaOffset.beginning.rawValue) }), timeout: .seconds(10))
        let latest = try? consumer.offsets(
            forTimes: Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaOffset.end.rawValue) }), timeout: .seconds(10))
        if let earliest, let latest {
            let low = partitions.compactMap { earliest[$0] ?? nil }
            let high = partitions.compactMap { latest[$0] ?? nil }
            if low.count == partitions.count, high.count == partitions.count { return (low, high) }
        }
        var low: [Int64] = []
        var high: [Int64] = []
        for partition in partitions {
            let watermarks = try consumer.watermarks(partition, timeout: .seconds(10))
            low.append(max(watermarks.low, 0))
            high.append(max(watermarks.high, 0))
        }
        return (low, high)
    }
}
