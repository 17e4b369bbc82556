public import Pipelines
public import Views
internal import KafkaClient
internal import Logging

/// Keeps one projection's views current from Kafka: one consumer, one store connection, one thread.
///
/// Its loop polls a batch, runs the projection, and applies the changes with the checkpoints in
/// one store transaction; Kafka group commits follow asynchronously and are informational only.
/// On every assignment each partition starts at the checkpoint stored with the views.
///
/// ```swift
/// let worker = Worker(projection: plan, store: try SQLiteViewStore(path: "views.sqlite"),
///                     configuration: WorkerConfiguration(brokers: "127.0.0.1:9092", exitsAtEnd: true))
/// let summary = try worker.run(until: ShutdownSignal())
/// ```
///
/// - Important: `run` blocks its thread until the worker stops; run each worker on its own thread.
public final class Worker: Sendable {
    /// What a worker did, reported as it goes and when it stops.
    public struct Progress: Sendable {
        /// The pipeline name.
        public var pipeline: String
        /// Messages consumed and applied (including skipped and dead-lettered ones).
        public var messages: Int
        /// Batches committed.
        public var batches: Int
        /// Event counts by outcome.
        public var counters: PlanResult.Counters
    }

    /// The projection the worker runs.
    public let projection: any Projection
    /// The store the views live in.
    public let store: any ViewStore
    /// How the worker consumes.
    public let configuration: WorkerConfiguration
    /// Called on the worker thread after every committed batch.
    public let onBatch: (@Sendable (Progress) -> Void)?

    /// Creates a worker; nothing starts until ``run(until:)``.
    public init(
        projection: any Projection, store: any ViewStore, configuration: WorkerConfiguration,
        onBatch: (@Sendable (Progress) -> Void)? = nil
    ) {
        self.projection = projection
        self.store = store
        self.configuration = configuration
        self.onBatch = onBatch
    }

    /// Runs until `signal` is triggered, the end is reached (``WorkerConfiguration/exitsAtEnd``),
    /// or a failure.
    /// - Returns: what the worker did.
    /// - Throws: ``ProjectorError``: `.eventFailed` for an event error under `on_error: fail`
    ///   (everything before it is committed), `.database` or `.broker` for failures of those
    ///   (`.broker` too when a source or the dead-letter topic does not exist, or when dead letters are not
    ///   acknowledged by it at stop: they stay pending and the next run produces them).
    public func run(until signal: ShutdownSignal) throws(ProjectorError) -> Progress {
        let name = projection.name
        var logger = configuration.logger
        logger[metadataKey: "pipeline"] = .string(name)
        try wrappingErrors(pipeline: name, doing: "pipeline \(name)") {
            try store.prepare(pipeline: name, version: projection.version, hash: projection.definitionHash,
                              views: projection.views)
        }
        try checkCluster()
        let metrics = configuration.metrics?.pipeline(name)
        metrics?.started()
        defer { metrics?.stopped() }
        let tracker = PartitionTracker(store: store, pipeline: name, recordsEnd: configuration.exitsAtEnd, metrics: metrics)
        let consumer = try wrappingErrors(pipeline: name, doing: "pipeline \(name)") {
            let consumer = try KafkaConsumer(configuration: consumerConfiguration(), rebalanceHandler: tracker)
            try consumer.subscribe(topics: projection.topics)
            return consumer
        }
        metrics?.attach { [consumer] in consumer.cachedWatermarks($0)?.high }
        var loop = WorkerLoop(projection: projection, applier: BatchApplier(projection: projection, store: store, target: .live),
                              consumer: consumer, tracker: tracker, logger: logger, metrics: metrics, onBatch: onBatch)
        var failure: ProjectorError?
        var deadLetters: OutboxRelay?
        var emits: OutboxRelay?
        do {
            deadLetters = try projection.deadLetterTopic.map { (topic) throws(ProjectorError) in
                // Only the current owner of a source partition publishes its dead letters, as its emits.
                try OutboxRelay(pipeline: name, source: DeadLetterOutbox(pipeline: name, topic: topic, store: store),
                                configuration: configuration, fence: OutboxFence(pipeline: name, store: store, held: { tracker.epochs }))
            }
            emits = try projection.outboxView.map { (view) throws(ProjectorError) in
                // Only the current owner of a source partition produces its records.
                try OutboxRelay(pipeline: name, source: EmitOutbox(pipeline: name, store: store, view: view), configuration: configuration,
                                fence: OutboxFence(pipeline: name, store: store, held: { tracker.epochs }))
            }
            while !signal.isTriggered {
                let deadLettered = loop.progress.counters.deadLettered
                let applied = loop.progress.counters.applied
                try loop.pollOnce(maxMessages: configuration.maxBatchMessages, timeout: configuration.pollTimeout)
                // After the commit: the store is the outbox (OutboxRelay).
                if let deadLetters {
                    if loop.progress.counters.deadLettered != deadLettered { deadLetters.noteNewRecords() }
                    publish(deadLetters, logger)
                }
                if let emits {
                    if loop.progress.counters.applied != applied { emits.noteNewRecords() }
                    publish(emits, logger)
                }
                if configuration.exitsAtEnd && tracker.isAtEnd { break }
            }
        } catch {
            failure = error
        }
        metrics?.attach(endOffsets: nil)
        deadLetters?.keepClaims()
        emits?.keepClaims()
        do {
            try consumer.close()
        } catch {
            failure = failure ?? ProjectorError(wrapping: error, pipeline: name, doing: "pipeline \(name): closing the consumer")
        }
        for relay in [deadLetters, emits].compactMap(\.self) {
            do {
                try relay.drain()
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return loop.progress
    }

    /// Produces what the relay's outbox holds; a failure is logged, and the records are produced again later.
    private func publish(_ relay: OutboxRelay, _ logger: Logger) {
        do {
            try relay.publish()
        } catch {
            logger.warning("\(error.message)")
        }
    }

    /// Fails within ``WorkerConfiguration/connectTimeout`` when no broker answers, rather than
    /// letting the consumer retry forever, and when the cluster lacks a source or dead-letter topic
    /// (rather than waiting for it, or having a broker with `auto.create.topics.enable` create it:
    /// the metadata request asks for every topic, so looking creates none).
    private func checkCluster() throws(ProjectorError) {
        let metadata: KafkaClusterMetadata
        do {
            let admin = try KafkaAdmin(bootstrapServers: configuration.brokers, additionalProperties: configuration.properties)
            metadata = try admin.metadata(timeout: configuration.connectTimeout)
        } catch {
            throw ProjectorError(
                code: .broker,
                message: "pipeline \(projection.name): no broker of \(configuration.brokers) answered within "
                    + "\(configuration.connectTimeout): \(error.message)",
                pipeline: projection.name, underlying: error)
        }
        let missing = projection.topics.filter { metadata.topic(named: $0) == nil }
        if !missing.isEmpty {
            throw ProjectorError(
                code: .broker,
                message: "pipeline \(projection.name): source topic\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) "
                    + "(source.topics) \(missing.count == 1 ? "does" : "do") not exist in the cluster \(configuration.brokers); "
                    + "create \(missing.count == 1 ? "it" : "them"), or fix source.topics in the pipeline",
                pipeline: projection.name)
        }
        let missingEmits = projection.emitTopics.filter { metadata.topic(named: $0) == nil }
        if !missingEmits.isEmpty {
            throw ProjectorError(
                code: .broker,
                message: "pipeline \(projection.name): emit topic\(missingEmits.count == 1 ? "" : "s") \(missingEmits.joined(separator: ", ")) "
                    + "(emit_topics) \(missingEmits.count == 1 ? "does" : "do") not exist in the cluster \(configuration.brokers); "
                    + "create \(missingEmits.count == 1 ? "it" : "them"), or fix emit_topics in the pipeline",
                pipeline: projection.name)
        }
        if let topic = projection.deadLetterTopic, metadata.topic(named: topic) == nil {
            throw ProjectorError(
                code: .broker,
                message: "pipeline \(projection.name): the dead-letter topic \(topic) (dead_letter.topic) does not exist in "
                    + "the cluster \(configuration.brokers); create it, or remove dead_letter.topic from the pipeline",
                pipeline: projection.name)
        }
    }

    private func consumerConfiguration() -> KafkaConsumerConfiguration {
        var consumer = KafkaConsumerConfiguration(
            bootstrapServers: configuration.brokers, groupID: configuration.groupID ?? "projector.\(projection.name)")
        consumer.clientID = "projector.\(projection.name)"
        consumer.autoOffsetReset = .earliest
        consumer.isPartitionEOFEnabled = configuration.exitsAtEnd
        consumer.sessionTimeout = .seconds(10)
        consumer.heartbeatInterval = .seconds(1)
        consumer.additionalProperties = configuration.properties
        if let metrics = configuration.metrics?.pipeline(projection.name) {
            consumer.statisticsHandler = { metrics.received(statistics: $0) }
        }
        return consumer
    }
}
