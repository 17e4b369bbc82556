public import Projector
internal import Foundation
internal import KafkaClient
public import Logging
public import Pipelines
internal import Synchronization
public import Views
internal import ProjectorModel

/// Measures Projector's Kafka paths on a cluster: producing synthetic events, consuming them with
/// the batch consumer, and projecting them through a pipeline into a temporary SQLite file — the
/// engine of `projector bench` and of `benchmarks/run`.
///
/// Consumers use manual assignment (no group, so no join delay) from the earliest offsets; the
/// pipeline phase runs the worker's own loop (``WorkerLoop``: poll, ``BatchApplier``,
/// ``SQLiteViewStore``, async commit) exactly as `projector run` does, minus the group join.
///
/// ```swift
/// let bench = Bench(options: .init(brokers: cluster.bootstrapServers, topic: "bench", messages: 100_000))
/// let produced = try bench.produce()
/// let consumed = try bench.consume()
/// print(produced.summary, consumed.summary)
/// ```
///
/// - Important: Every method blocks its thread (librdkafka, SQLite): never call them on Swift's
///   cooperative pool.
public struct Bench: Sendable {
    /// What events the produce phase writes.
    public enum Events: String, Sendable, CaseIterable {
        /// ``BenchEvent``: OrderCreated envelopes padded to ``Options/size`` bytes.
        case synthetic
        /// The `orders` events of ``DemoStream`` (created, shipped, cancelled; ``Options/size`` is ignored).
        case demo
        /// The `payments` events of ``DemoStream``: with ``demo`` and ``demoInventory`` on their own
        /// topics, the sources of the multi-topic example pipelines.
        case demoPayments = "demo-payments"
        /// The `inventory` events of ``DemoStream`` (restocks, reservations, releases, updates).
        case demoInventory = "demo-inventory"

        /// The ``DemoStream`` topic these events come from, or nil for synthetic events.
        var demoTopic: String? {
            switch self {
            case .synthetic: return nil
            case .demo: return "orders"
            case .demoPayments: return "payments"
            case .demoInventory: return "inventory"
            }
        }
    }

    /// What to measure and where.
    public struct Options: Sendable {
        /// Bootstrap servers.
        public var brokers: String
        /// The topic produced to and consumed from.
        public var topic: String
        /// How many events the produce phase writes.
        public var messages: Int
        /// The value size of synthetic events, in bytes.
        public var size: Int
        /// Which events are produced.
        public var events: Events
        /// librdkafka properties for every client (`-X`), over the defaults.
        public var properties: [String: String]
        /// How many times the consume phase reads the topic (more passes time a small topic longer).
        public var passes: Int
        /// The most records per poll (the worker's default batch size).
        public var maxBatchMessages: Int
        /// Refuse to time a topic whose low watermark is above 0 (the embedded mock drops old data).
        public var requiresCompleteTopic: Bool
        /// How long a consume-phase poll waits for its batch to fill after the first record
        /// (``KafkaConsumer/poll(maxMessages:timeout:fillTimeout:_:)``); `.zero` takes what is queued.
        public var fillTimeout: Duration = .zero
        /// Where the pipeline phase reports, as `projector run --http` does (`bench --http`), so
        /// that the cost of the metrics shows in the measurement; nil reports nothing.
        public var metrics: RuntimeMetrics?
        /// Whether the pipeline phase measures views that already hold what the topic writes: the
        /// topic is projected once untimed, the checkpoints are set back to its start, and the
        /// second pass is the one measured. A worker catching up on a read model that exists
        /// updates rows rather than inserting them; both cases are users' (`bench --existing-views`).
        public var existingViews = false

        /// Creates options; see each property.
        public init(
            brokers: String, topic: String, messages: Int = 100_000, size: Int = 220, events: Events = .synthetic,
            properties: [String: String] = [:], passes: Int = 1, maxBatchMessages: Int = 10_000,
            requiresCompleteTopic: Bool = false
        ) {
            self.brokers = brokers
            self.topic = topic
            self.messages = messages
            self.size = size
            self.events = events
            self.properties = properties
            self.passes = passes
            self.maxBatchMessages = maxBatchMessages
            self.requiresCompleteTopic = requiresCompleteTopic
        }
    }

    /// The options.
    public let options: Options
    /// Shows progress on stderr: by default only on a terminal, and not with `CI=true`.
    public let progress: ProgressLine
    /// Where the pipeline phase's worker loop logs.
    public let logger: Logger

    /// Creates a bench; nothing connects until a phase runs.
    public init(
        options: Options, progress: ProgressLine = ProgressLine(mode: ProgressLine.environmentMode(withoutTerminal: .quiet)),
        logger: Logger = Logger(label: "projector.bench")) {
        self.options = options
        self.progress = progress
        self.logger = logger
    }

    // MARK: Produce

    /// Produces ``Options/messages`` events and waits until every one is delivered.
    /// - Throws: ``ProjectorError`` `.broker` for a failed delivery or an unreachable cluster.
    public func produce() throws(ProjectorError) -> BenchMeasurement {
        do {
            var configuration = KafkaProducerConfiguration(bootstrapServers: options.brokers)
            configuration.additionalProperties = ["log_level": "2"].merging(options.properties) { $1 }
            let producer = try KafkaProducer(configuration: configuration)
            let total = options.messages
            let demoTopic = options.events.demoTopic
            var demo = demoTopic.map { topic in DemoStream(count: Int.max).lazy.filter { $0.topic == topic }.makeIterator() }
            var key: [UInt8] = []
            var value: [UInt8] = []
            key.reserveCapacity(32)
            value.reserveCapacity(max(options.size, 256) + 64)
            var bytes = 0
            var delivered = 0
            let stopwatch = BenchStopwatch(expectedBatches: 16)
            for sequence in 0 ..< total {
                if demo != nil, let event = demo!.next() {
                    key = Array(event.key.utf8)
                    value = Array(event.value.utf8)
                } else {
                    BenchEvent.fill(sequence, size: options.size, value: &value, key: &key)
                }
                bytes += value.count
                while true {
                    do {
                        try key.withUnsafeBytes { keyBytes in
                            try value.withUnsafeBytes { valueBytes in
                                try producer.send(topic: options.topic, key: keyBytes, value: valueBytes)
                            }
                        }
                        break
                    } catch let error as KafkaError where error.code == .queueFull {
                        delivered += try Self.count(producer.pollDeliveryReports(timeout: .milliseconds(100)))
                    }
                }
                if sequence & 0x3FFF == 0 {
                    delivered += try Self.count(producer.pollDeliveryReports())
                    progress.update("bench: produced \(sequence)/\(total)")
                }
            }
            try producer.flush(timeout: .seconds(300))
            delivered += try Self.count(producer.pollDeliveryReports())
            let measurement = stopwatch.finishing(mode: "produce", messages: delivered, bytes: bytes)
            progress.finish()
            guard delivered == total else {
                throw ProjectorError(code: .broker, message: "bench: \(delivered) of \(total) events were delivered")
            }
            return measurement
        } catch let error as ProjectorError {
            throw error
        } catch {
            throw ProjectorError(code: .broker, message: "bench: producing to \(options.topic): \(error)")
        }
    }

    private static func count(_ reports: [KafkaDeliveryReport]) throws(KafkaError) -> Int {
        for report in reports { if let error = report.error { throw error } }
        return reports.count
    }

    // MARK: Consume

    /// Reads the whole topic ``Options/passes`` times with the batch consumer, touching every value.
    /// - Throws: ``ProjectorError`` `.broker`.
    public func consume() throws(ProjectorError) -> BenchMeasurement {
        do {
            let consumer = try KafkaConsumer(configuration: consumerConfiguration())
            let ranges = try partitionRanges(consumer)
            let perPass = ranges.values.reduce(0) { $0 + Int($1.high - $1.low) }
            var messages = 0
            var bytes = 0
            var checksum = 0
            var stopwatch = BenchStopwatch(expectedBatches: perPass * options.passes / 100 + 16)
            for pass in 0 ..< options.passes {
                try consumer.assign(ranges.mapValues { KafkaOffset($0.low) })
                var seen = 0
                var idleSince = ContinuousClock.now
                // A batch's latency runs from the end of the previous one (or the pass's start), as in cref.c.
                var started = ContinuousClock.now
                while seen < perPass {
                    let count = try consumer.poll(maxMessages: options.maxBatchMessages, timeout: .milliseconds(100),
                                                  fillTimeout: options.fillTimeout) { batch in
                        for record in batch {
                            if let value = record.value {
                                bytes &+= value.count
                                checksum &+= Int(value.first ?? 0)
                            }
                        }
                        return batch.count
                    }
                    if count > 0 {
                        let now = ContinuousClock.now
                        stopwatch.record(now - started)
                        started = now
                        seen += count
                        idleSince = now
                        progress.update("bench: consumed \(messages + seen)/\(perPass * options.passes)")
                    } else if ContinuousClock.now - idleSince > .seconds(10) {
                        throw ProjectorError(code: .broker, message: "bench: no records for 10 s after \(seen) of \(perPass) (pass \(pass + 1))")
                    }
                }
                messages += seen
            }
            let measurement = stopwatch.finishing(mode: "consume", messages: messages, bytes: bytes)
            progress.finish()
            withExtendedLifetime(checksum) {}
            try consumer.close()
            return measurement
        } catch let error as ProjectorError {
            throw error
        } catch {
            throw ProjectorError(code: .broker, message: "bench: consuming \(options.topic): \(error)")
        }
    }

    // MARK: Pipeline

    /// Projects the whole topic through `plan` into a new SQLite file at `databasePath`, with the
    /// worker's loop: the topic's records are fed as the plan's first source topic.
    /// - Throws: ``ProjectorError`` `.broker`, `.database`, or `.eventFailed` under `on_error: fail`.
    public func project(_ plan: Plan, databasePath: String) throws(ProjectorError) -> BenchMeasurement {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databasePath + suffix) }
        let store: SQLiteViewStore
        do {
            store = try SQLiteViewStore(path: databasePath)
        } catch {
            throw ProjectorError(code: .database, message: "bench: \(error)")
        }
        return try project(plan, into: store)
    }

    /// Projects the whole topic through `plan` into `store`, which holds nothing of the pipeline
    /// yet (a new SQLite file, a new PostgreSQL schema), as ``project(_:databasePath:)`` does.
    /// - Throws: ``ProjectorError`` `.broker`, `.database`, or `.eventFailed` under `on_error: fail`.
    public func project(_ plan: Plan, into store: any ViewStore) throws(ProjectorError) -> BenchMeasurement {
        let renamed = RenamedProjection(plan: plan, topic: options.topic)
        do {
            try store.prepare(pipeline: renamed.name, version: renamed.version, hash: renamed.definitionHash, views: renamed.views)
        } catch {
            throw ProjectorError(code: .database, message: "bench: \(error)")
        }
        guard options.existingViews else { return try pass(renamed, into: store, timed: true).measurement }
        let filling = try pass(renamed, into: store, timed: false)
        do {
            try store.write(pipeline: renamed.name, target: .live) { try $0.setCheckpoints(filling.starts) }
        } catch {
            throw ProjectorError(code: .database, message: "bench: setting the checkpoints back after \(filling.measurement.messages) events: \(error)")
        }
        renamed.bytes.reset()
        return try pass(renamed, into: store, timed: true).measurement
    }

    /// One pass of the worker's loop over the whole topic, from the checkpoints' positions as
    /// claimed (the low watermarks in a new store); progress shows only on the timed pass.
    private func pass(
        _ renamed: RenamedProjection, into store: any ViewStore, timed: Bool
    ) throws(ProjectorError) -> (measurement: BenchMeasurement, starts: [Checkpoint]) {
        let consumer: KafkaConsumer
        let ranges: [KafkaTopicPartition: (low: Int64, high: Int64)]
        let metrics = options.metrics?.pipeline(renamed.name)
        metrics?.started()
        defer { metrics?.stopped() }
        do {
            var configuration = consumerConfiguration()
            if let metrics { configuration.statisticsHandler = { metrics.received(statistics: $0) } }
            consumer = try KafkaConsumer(configuration: configuration)
            ranges = try partitionRanges(consumer)
            try consumer.assign(ranges.mapValues { KafkaOffset($0.low) })
        } catch let error as ProjectorError {
            throw error
        } catch {
            throw ProjectorError(code: .broker, message: "bench: consuming \(options.topic): \(error)")
        }
        let total = ranges.values.reduce(0) { $0 + Int($1.high - $1.low) }
        let tracker = PartitionTracker(store: store, pipeline: renamed.name, recordsEnd: false, metrics: metrics)
        let starts = ranges.map { Checkpoint(topic: $0.key.topic, partition: $0.key.partition, nextOffset: $0.value.low) }
        tracker.assignManually(from: starts)
        metrics?.attach { [consumer] in consumer.cachedWatermarks($0)?.high }
        defer { metrics?.attach(endOffsets: nil) }
        var loop = WorkerLoop(projection: renamed, applier: BatchApplier(projection: renamed, store: store, target: .live),
                              consumer: consumer, tracker: tracker, logger: logger, metrics: metrics, onBatch: nil)
        var stopwatch = BenchStopwatch(expectedBatches: total / 100 + 16)
        var idleSince = ContinuousClock.now
        var started = ContinuousClock.now
        while loop.progress.messages < total {
            let before = loop.progress.messages
            try loop.pollOnce(maxMessages: options.maxBatchMessages, timeout: .milliseconds(100))
            if loop.progress.messages > before {
                let now = ContinuousClock.now
                stopwatch.record(now - started)
                started = now
                idleSince = now
                if timed { progress.update("bench: projected \(loop.progress.messages)/\(total)") }
            } else if ContinuousClock.now - idleSince > .seconds(10) {
                throw ProjectorError(code: .broker, message: "bench: no records for 10 s after \(loop.progress.messages) of \(total)")
            }
        }
        let measurement = stopwatch.finishing(mode: "pipeline", messages: loop.progress.messages, bytes: renamed.bytes.value)
        progress.finish()
        metrics?.attach(endOffsets: nil)
        do { try consumer.close() } catch {
            throw ProjectorError(code: .broker, message: "bench: closing the consumer: \(error)")
        }
        return (measurement, starts)
    }

    // MARK: Topic

    /// The topic's partitions with their low and high watermarks.
    /// - Throws: ``ProjectorError`` `.broker` when the topic is missing, empty, or (with
    ///   ``Options/requiresCompleteTopic``) truncated.
    public func topicExtent() throws(ProjectorError) -> (partitions: Int, messages: Int, truncatedPartitions: Int) {
        do {
            let consumer = try KafkaConsumer(configuration: consumerConfiguration())
            let ranges = try partitionRanges(consumer, checksCompleteness: false)
            return (ranges.count, ranges.values.reduce(0) { $0 + Int($1.high - $1.low) }, ranges.values.filter { $0.low > 0 }.count)
        } catch let error as ProjectorError {
            throw error
        } catch {
            throw ProjectorError(code: .broker, message: "bench: reading \(options.topic): \(error)")
        }
    }

    private func admin() throws(KafkaError) -> KafkaAdmin {
        try KafkaAdmin(bootstrapServers: options.brokers, additionalProperties: ["log_level": "2"].merging(options.properties) { $1 })
    }

    private func consumerConfiguration() -> KafkaConsumerConfiguration {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: options.brokers)
        configuration.clientID = "projector.bench"
        configuration.additionalProperties = ["log_level": "2"].merging(options.properties) { $1 }
        return configuration
    }

    private func partitionRanges(
        _ consumer: KafkaConsumer, checksCompleteness: Bool = true
    ) throws -> [KafkaTopicPartition: (low: Int64, high: Int64)] {
        let metadata = try admin().metadata(topics: [options.topic], timeout: .seconds(10))
        guard let topic = metadata.topic(named: options.topic), topic.error == nil, !topic.partitions.isEmpty else {
            throw ProjectorError(code: .broker, message: "bench: topic \(options.topic) does not exist. Create it, or leave out --existing to produce into it.")
        }
        var ranges: [KafkaTopicPartition: (low: Int64, high: Int64)] = [:]
        for partition in topic.partitions {
            let topicPartition = KafkaTopicPartition(topic: options.topic, partition: partition.id)
            let watermarks = try consumer.watermarks(topicPartition, timeout: .seconds(10))
            if checksCompleteness && options.requiresCompleteTopic && watermarks.low > 0 {
                throw ProjectorError(code: .broker, message: "bench: \(topicPartition) starts at offset \(watermarks.low): older records were dropped "
                    + "(the embedded broker keeps ~5 MiB per partition). Use more --partitions or fewer --messages.")
            }
            ranges[topicPartition] = (watermarks.low, watermarks.high)
        }
        return ranges
    }
}

/// A plan whose first source topic is read from another topic: `projector bench --pipeline`
/// feeds the bench topic to any pipeline.
private struct RenamedProjection: Projection, PlanBacked {
    let plan: Plan
    let topics: [String]
    /// Value bytes of every batch run, for MB/s (one addition per batch).
    let bytes = ByteCounter()

    init(plan: Plan, topic: String) {
        self.plan = plan
        var topics = plan.topics
        topics[0] = topic
        self.topics = topics
    }

    var name: String { plan.name }
    var version: Int { plan.version }
    var definitionHash: String { plan.definitionHash }
    var views: [ViewDefinition] { plan.views }
    var errorPolicy: ErrorPolicy { plan.errorPolicy }

    func run(_ messages: UnsafeBufferPointer<RawMessage>, rows: inout some RowReader) throws -> PlanResult {
        var total = 0
        for message in messages { total &+= message.value?.count ?? 0 }
        bytes.add(total)
        return try plan.run(messages, rows: &rows)
    }
}

/// A running total shared by the copies of a ``RenamedProjection``.
private final class ByteCounter: Sendable {
    private let total = Atomic<Int>(0)
    func add(_ count: Int) { total.add(count, ordering: .relaxed) }
    var value: Int { total.load(ordering: .relaxed) }
    func reset() { total.store(0, ordering: .relaxed) }
}
