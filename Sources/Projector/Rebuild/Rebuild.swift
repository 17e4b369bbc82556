internal import Foundation
internal import KafkaClient
public import Pipelines
public import Views
public import ProjectorModel

/// Recomputes a pipeline's views from the earliest offsets into shadow tables, then swaps them in
/// (DESIGN.md, decision 4), or builds them as of a past moment (`--until`).
///
/// The rebuild reads every source partition with its own consumer (manual assignment, no group:
/// live workers keep their partitions) and applies batches to the shadow through ``BatchApplier``,
/// one transaction per batch. It then catches up with the live views: it reads each partition up
/// to exactly the live checkpoint, and applies the last messages and swaps inside ONE store
/// transaction that holds the write lock, so the shadow's checkpoints equal the live ones at the
/// swap and a live worker goes on from them without a restart and without applying anything twice.
/// Readers see the old views or the new ones, never a mix. With no live checkpoints (a new
/// pipeline or version) it reads up to the high watermarks seen at the start.
///
/// Stopping it (``ShutdownSignal``, or a crash) leaves the live views untouched; the next rebuild
/// resumes from the shadow's checkpoints unless ``RebuildOptions/restarts``.
///
/// ```swift
/// let rebuild = Rebuild(projection: plan, store: try SQLiteViewStore(path: "views.sqlite"),
///                       options: RebuildOptions(brokers: "127.0.0.1:9092"))
/// let summary = try rebuild.run(until: ShutdownSignal())   // .swapped
/// ```
///
/// - Important: `run` blocks its thread (librdkafka and SQLite calls); never call it on Swift's
///   cooperative pool. `onProgress` is called on that thread after every batch.
public final class Rebuild: Sendable {
    /// What a rebuild did.
    public struct Summary: Sendable {
        /// How a rebuild ended.
        public enum Outcome: Sendable, Hashable {
            /// The rebuilt views replaced the live ones.
            case swapped
            /// The shadow is complete and was left in place (``RebuildOptions/swaps`` off).
            case leftInShadow
            /// Stopped by the signal; the next rebuild resumes from the shadow.
            case stopped
        }

        /// The pipeline name.
        public var pipeline: String
        /// How it ended.
        public var outcome: Outcome
        /// Whether it resumed the shadow of an earlier rebuild.
        public var wasResumed: Bool
        /// Messages applied by this run.
        public var events: Int
        /// Batches committed by this run.
        public var batches: Int
        /// How long it ran.
        public var elapsed: Duration
        /// The checkpoints of the views it built (live after a swap, else the shadow's).
        public var checkpoints: [Checkpoint]
        /// Event counts by outcome in this run.
        public var counters: PlanResult.Counters
    }

    /// The projection rebuilt.
    public let projection: any Projection
    /// The store whose shadow is built and swapped in.
    public let store: any ViewStore
    /// Where to read and stop.
    public let options: RebuildOptions
    /// Called on the rebuild's thread after every batch.
    public let onProgress: (@Sendable (RebuildProgress) -> Void)?

    /// Creates a rebuild; nothing starts until ``run(until:)``.
    public init(
        projection: any Projection, store: any ViewStore, options: RebuildOptions,
        onProgress: (@Sendable (RebuildProgress) -> Void)? = nil
    ) {
        self.projection = projection
        self.store = store
        self.options = options
        self.onProgress = onProgress
    }

    /// Runs the rebuild until it swapped (or finished the shadow), or `signal` stops it.
    /// - Returns: what it did.
    /// - Throws: ``ProjectorError``: `.usage` for an `--until` that does not fit the sources,
    ///   `.eventFailed` for an event error under `on_error: fail` (the shadow keeps everything
    ///   before it), `.broker` or `.database` for failures of those.
    public func run(until signal: ShutdownSignal) throws(ProjectorError) -> Summary {
        try run(until: signal, requiresEveryPartition: true)
    }

    /// ``run(until:)``; `verify` passes the live checkpoints as `--until` offsets, which need not
    /// list partitions the live views never read.
    func run(until signal: ShutdownSignal, requiresEveryPartition: Bool) throws(ProjectorError) -> Summary {
        let started = ContinuousClock.now
        var reader = try RebuildReader(projection: projection, store: store, options: options, onProgress: onProgress,
                                       started: started)
        defer { reader.close() }
        var targets: [Int64]?
        switch options.until {
        case .offsets(let checkpoints)?:
            targets = try reader.untilOffsets(checkpoints, requiresEveryPartition: requiresEveryPartition)
        case .time(let milliseconds)?:
            targets = try reader.untilTime(milliseconds)
            reader.cutoff = milliseconds
        case nil:
            targets = nil
        }
        var wasResumed = try reader.prepareShadow(restarts: options.restarts)
        if wasResumed, reader.cutoff != nil, reader.partitions.indices.contains(where: { reader.position[$0] > reader.low[$0] }) {
            // Where the brokers could not look the time up, the shadow may already hold messages
            // past it (an earlier rebuild up to a later time): nothing tells, so start over.
            Log.warning("rebuild \(projection.name): not resuming a shadow with --until TIME; starting over")
            wasResumed = try reader.prepareShadow(restarts: true)
        }
        let outcome: Summary.Outcome
        if let targets {
            reader.target = targets
            try reader.restartIfAhead()
            guard try reader.catchUp(signal: signal) == .reached else { return reader.summary(.stopped, wasResumed: wasResumed) }
            try reader.writeShadowCheckpoints()
            if options.swaps { try reader.swap() }
            outcome = options.swaps ? .swapped : .leftInShadow
        } else {
            outcome = try reader.followLive(signal: signal, swaps: options.swaps)
        }
        return reader.summary(outcome, wasResumed: wasResumed)
    }
}

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
    let consumer: KafkaConsumer
    let applier: BatchApplier
    /// Every source partition, ordered by topic and partition.
    let partitions: [KafkaTopicPartition]
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
    private var messages: [RawMessage] = []
    private var topics: TopicIndexes
    var events = 0
    var batches = 0
    var counters = PlanResult.Counters()

    init(projection: any Projection, store: any ViewStore, options: RebuildOptions,
         onProgress: (@Sendable (RebuildProgress) -> Void)?, started: ContinuousClock.Instant) throws(ProjectorError) {
        self.projection = projection
        self.store = store
        self.options = options
        self.onProgress = onProgress
        self.started = started
        self.topics = TopicIndexes(topics: projection.topics)
        let name = projection.name
        applier = BatchApplier(projection: projection, store: store, target: .shadow)
        var partitions: [KafkaTopicPartition] = []
        var slots: [[Int]] = []
        var low: [Int64] = []
        var high: [Int64] = []
        do {
            // One metadata request for every topic: a request naming a missing topic would create it.
            let metadata = try KafkaAdmin(bootstrapServers: options.brokers, additionalProperties: options.properties)
                .metadata(topics: projection.topics, timeout: .seconds(10))
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
                }
                slots.append(topicSlots)
            }
            var configuration = KafkaConsumerConfiguration(bootstrapServers: options.brokers)
            configuration.clientID = "projector.rebuild.\(name)"
            configuration.autoOffsetReset = .earliest
            configuration.additionalProperties = options.properties
            consumer = try KafkaConsumer(configuration: configuration)
            for partition in partitions {
                let watermarks = try consumer.watermarks(partition, timeout: .seconds(10))
                low.append(max(watermarks.low, 0))
                high.append(max(watermarks.high, 0))
            }
        } catch let error as ProjectorError {
            throw error
        } catch {
            throw ProjectorError(code: .broker, message: "rebuild \(name): \(error)")
        }
        self.partitions = partitions
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

    // MARK: Where to stop

    /// The `--until` offsets per slot; every source partition listed (when required), none extra,
    /// each within the partition's watermarks.
    func untilOffsets(_ checkpoints: [Checkpoint], requiresEveryPartition: Bool) throws(ProjectorError) -> [Int64] {
        let name = projection.name
        var targets: [Int64?] = Array(repeating: nil, count: partitions.count)
        for checkpoint in checkpoints {
            guard let slot = slot(topic: checkpoint.topic, partition: checkpoint.partition) else {
                throw ProjectorError(
                    code: .usage,
                    message: "rebuild \(name): --until names \(checkpoint.topic):\(checkpoint.partition), which is not a source "
                        + "partition (sources: \(partitions.map { "\($0.topic):\($0.partition)" }.joined(separator: ",")))")
            }
            if checkpoint.nextOffset > high[slot] {
                throw ProjectorError(
                    code: .usage,
                    message: "rebuild \(name): --until \(checkpoint.topic):\(checkpoint.partition):\(checkpoint.nextOffset) is past "
                        + "the end of the partition (high watermark \(high[slot]))")
            }
            if checkpoint.nextOffset < low[slot] {
                throw ProjectorError(
                    code: .usage,
                    message: "rebuild \(name): --until \(checkpoint.topic):\(checkpoint.partition):\(checkpoint.nextOffset) is before "
                        + "the earliest offset Kafka still keeps (\(low[slot])); the events before it are gone")
            }
            targets[slot] = checkpoint.nextOffset
        }
        let missing = partitions.indices.filter { targets[$0] == nil }
        if requiresEveryPartition && !missing.isEmpty {
            throw ProjectorError(
                code: .usage,
                message: "rebuild \(name): --until must give an offset for every source partition; missing "
                    + missing.map { "\(partitions[$0].topic):\(partitions[$0].partition)" }.joined(separator: ","))
        }
        return partitions.indices.map { targets[$0] ?? low[$0] }
    }

    /// Per slot, the first offset whose timestamp is past `milliseconds`, where the broker can look
    /// it up; else the high watermark, and reading stops at the first later timestamp instead.
    func untilTime(_ milliseconds: Int64) throws(ProjectorError) -> [Int64] {
        var times: [KafkaTopicPartition: Int64] = [:]
        for partition in partitions { times[partition] = milliseconds + 1 }
        var found: [KafkaTopicPartition: Int64?] = [:]
        do {
            found = try consumer.offsets(forTimes: times, timeout: .seconds(10))
        } catch {
            Log.warning("rebuild \(projection.name): the brokers could not look up offsets for the time (\(error)); reading timestamps instead")
        }
        return partitions.indices.map { slot in
            let offset = found[partitions[slot]] ?? nil
            return min(max(offset ?? high[slot], low[slot]), high[slot])
        }
    }

    func slot(topic: String, partition: Int32) -> Int? {
        guard let index = projection.topics.firstIndex(of: topic), partition >= 0,
              Int(partition) < slots[index].count, slots[index][Int(partition)] >= 0 else { return nil }
        return slots[index][Int(partition)]
    }

    // MARK: The shadow

    /// Prepares (or resumes) the shadow and starts each partition at its checkpoint.
    /// - Returns: whether an earlier shadow was resumed.
    mutating func prepareShadow(restarts: Bool) throws(ProjectorError) -> Bool {
        let name = projection.name
        do {
            if restarts { try store.dropShadow(pipeline: name) }
            let preparation = try store.prepareShadow(
                pipeline: name, version: projection.version, hash: projection.definitionHash, views: projection.views)
            position = low
            for checkpoint in try store.checkpoints(pipeline: name, target: .shadow) {
                if let slot = slot(topic: checkpoint.topic, partition: checkpoint.partition) {
                    position[slot] = max(checkpoint.nextOffset, low[slot])
                }
            }
            start = position
            isFetching = Array(repeating: false, count: partitions.count)
            return preparation == .resumed
        } catch {
            throw ProjectorError(code: .database, message: "rebuild \(name): preparing the shadow tables: \(error)")
        }
    }

    /// Starts the shadow over when it already went past a target (an earlier rebuild read further
    /// than this one may).
    mutating func restartIfAhead() throws(ProjectorError) {
        guard partitions.indices.contains(where: { position[$0] > target[$0] }) else { return }
        Log.warning("rebuild \(projection.name): the shadow left by an earlier rebuild read past this one's end; starting it over")
        _ = try prepareShadow(restarts: true)
    }

    /// Sets the shadow's checkpoints to the targets: the views are as of exactly those positions.
    func writeShadowCheckpoints() throws(ProjectorError) {
        do {
            try store.write(pipeline: projection.name, target: .shadow) { transaction in
                try transaction.setCheckpoints(partitions.indices.map { checkpoint(slot: $0, offset: target[$0]) })
            }
        } catch {
            throw ProjectorError(code: .database, message: "rebuild \(projection.name): \(error)")
        }
    }

    func checkpoint(slot: Int, offset: Int64) -> Checkpoint {
        Checkpoint(topic: partitions[slot].topic, partition: partitions[slot].partition, nextOffset: offset)
    }

    /// Where this rebuild began reading each partition: the live dead letters it read are replaced
    /// by its own at the swap.
    var lettersReadFrom: [Checkpoint] { partitions.indices.map { checkpoint(slot: $0, offset: low[$0]) } }

    func swap() throws(ProjectorError) {
        do {
            try store.swap(pipeline: projection.name, newVersion: projection.version, newHash: projection.definitionHash,
                           time: nil, lettersReadFrom: lettersReadFrom) { _, _ in }
        } catch {
            throw ProjectorError(code: .database, message: "rebuild \(projection.name): swapping in the rebuilt views: \(error)")
        }
    }

    // MARK: Following the live views

    /// Reads up to the live checkpoints until they hold still, then applies the last messages and
    /// swaps under the write lock (or, without `swaps`, stops at the live checkpoints).
    mutating func followLive(signal: ShutdownSignal, swaps: Bool) throws(ProjectorError) -> Rebuild.Summary.Outcome {
        let name = projection.name
        let store = store
        let applier = applier
        var live = try liveCheckpoints()
        // No live checkpoints: a new pipeline or version; read to the ends seen at the start.
        var followsLive = !live.isEmpty
        target = followsLive ? targets(live) : high
        try restartIfAhead()
        var waitedForLive: ContinuousClock.Instant?
        while true {
            if partitions.indices.contains(where: { position[$0] > target[$0] }) {
                // A worker started on a new pipeline while the shadow read ahead: wait for it to pass the shadow.
                let since = waitedForLive ?? .now
                waitedForLive = since
                if ContinuousClock.now - since > .seconds(30) {
                    throw ProjectorError(
                        code: .fenced,
                        message: "rebuild \(name): a worker started on this pipeline during the rebuild and stays behind the "
                            + "rebuilt views; run the rebuild again")
                }
                if signal.isTriggered { return .stopped }
                Thread.sleep(forTimeInterval: 0.05)
            } else {
                waitedForLive = nil
                if try catchUp(signal: signal) == .stopped { return .stopped }
                guard swaps else { return .leftInShadow }
                let saved = (position, target, events, batches, counters)
                do {
                    try store.swap(pipeline: name, newVersion: projection.version, newHash: projection.definitionHash, time: nil,
                                   lettersReadFrom: lettersReadFrom) { transaction, current in
                        if current.isEmpty && !followsLive { return }
                        guard !current.isEmpty else { throw LiveMoved() }
                        target = targets(current)
                        if partitions.indices.contains(where: { position[$0] > target[$0] }) { throw LiveMoved() }
                        let deadline = ContinuousClock.now + options.finalCatchUpLimit
                        let result = try catchUp(signal: signal, deadline: deadline) { messages in
                            try applier.apply(messages, in: &transaction)
                        }
                        guard result == .reached else { throw LiveMoved() }
                        // The shadow now holds exactly what the live views hold; its checkpoints
                        // become the live ones (compacted gaps included).
                        let positions = Set(partitions.map { "\($0.topic)/\($0.partition)" })
                        try transaction.setCheckpoints(current.filter { positions.contains("\($0.topic)/\($0.partition)") })
                    }
                    return .swapped
                } catch is LiveMoved {
                    // Rolled back: forget what the transaction applied and read it again.
                    (position, target, events, batches, counters) = saved
                    isFetching = Array(repeating: false, count: partitions.count)
                } catch let error as ProjectorError {
                    throw error
                } catch {
                    throw ProjectorError(code: .database, message: "rebuild \(name): swapping in the rebuilt views: \(error)")
                }
            }
            live = try liveCheckpoints()
            if !live.isEmpty { followsLive = true }
            target = followsLive ? targets(live) : high
        }
    }

    func liveCheckpoints() throws(ProjectorError) -> [Checkpoint] {
        do {
            return try store.checkpoints(pipeline: projection.name, target: .live)
        } catch {
            throw ProjectorError(code: .database, message: "rebuild \(projection.name): reading the live checkpoints: \(error)")
        }
    }

    /// Per slot, the live checkpoint; a partition the live views never read stays at its start.
    func targets(_ live: [Checkpoint]) -> [Int64] {
        var targets = low
        for checkpoint in live {
            if let slot = slot(topic: checkpoint.topic, partition: checkpoint.partition) { targets[slot] = checkpoint.nextOffset }
        }
        return targets
    }

    // MARK: Reading

    /// Polls and applies batches (each in its own shadow transaction) until every partition
    /// reached its target, or the signal stops it.
    mutating func catchUp(signal: ShutdownSignal) throws(ProjectorError) -> CatchUp {
        let applier = applier
        return try catchUp(signal: signal, deadline: nil) { messages in try applier.apply(messages) }
    }

    /// Polls and applies batches with `apply` until every partition reached its target, the
    /// signal stops it, or the deadline passes.
    mutating func catchUp(
        signal: ShutdownSignal, deadline: ContinuousClock.Instant?,
        apply: (UnsafeBufferPointer<RawMessage>) throws -> BatchApplier.Outcome
    ) throws(ProjectorError) -> CatchUp {
        while true {
            try fetchPending()
            if !partitions.indices.contains(where: { position[$0] < target[$0] }) { return .reached }
            if signal.isTriggered { return .stopped }
            if let deadline, ContinuousClock.now >= deadline { return .timedOut }
            try pollOnce(apply: apply)
        }
    }

    /// Makes the consumer fetch exactly the partitions short of their target, each from its position.
    private mutating func fetchPending() throws(ProjectorError) {
        let pending = partitions.indices.filter { position[$0] < target[$0] }
        do {
            if pending.contains(where: { !isFetching[$0] }) {
                // (Re)start from the shadow's positions: records fetched past a target were dropped.
                var offsets: [KafkaTopicPartition: KafkaOffset] = [:]
                for slot in pending { offsets[partitions[slot]] = KafkaOffset(position[slot]) }
                try consumer.assign(offsets)
                // A partition paused earlier may keep librdkafka's pause flag across assignments.
                try consumer.resume(pending.map { partitions[$0] })
                isFetching = partitions.indices.map { pending.contains($0) }
            } else {
                let done = partitions.indices.filter { isFetching[$0] && position[$0] >= target[$0] }
                if !done.isEmpty {
                    try consumer.pause(done.map { partitions[$0] })
                    for slot in done { isFetching[slot] = false }
                }
            }
        } catch {
            throw ProjectorError(code: .broker, message: "rebuild \(projection.name): \(error)")
        }
    }

    private mutating func pollOnce(apply: (UnsafeBufferPointer<RawMessage>) throws -> BatchApplier.Outcome) throws(ProjectorError) {
        let name = projection.name
        let outcome: BatchApplier.Outcome?
        do {
            outcome = try consumer.poll(maxMessages: options.maxBatchMessages, timeout: options.pollTimeout) { batch in
                for event in batch.events {
                    if case .error(let error) = event.kind { Log.warning("rebuild \(name): \(error)") }
                }
                messages.removeAll(keepingCapacity: true)
                for record in batch {
                    let topic = topics.index(of: record.topicID, in: consumer)
                    let partition = Int(record.partition)
                    guard partition < slots[topic].count, case let slot = slots[topic][partition], slot >= 0 else { continue }
                    let offset = record.offset
                    if offset < position[slot] { continue }
                    let timestamp = record.timestamp?.milliseconds
                    if let cutoff, let timestamp, timestamp > cutoff, offset < target[slot] {
                        target[slot] = offset
                    }
                    if offset >= target[slot] {
                        // At or past the end (a compacted gap may hide the last offsets before it).
                        position[slot] = max(position[slot], target[slot])
                        continue
                    }
                    messages.append(RawMessage(
                        key: record.key, value: record.value, topic: topic, partition: record.partition,
                        offset: offset, timestamp: timestamp))
                }
                if messages.isEmpty { return nil }
                return try messages.withUnsafeBufferPointer { try apply($0) }
            }
        } catch let error as ProjectorError {
            throw error
        } catch let error as KafkaError {
            throw ProjectorError(code: .broker, message: "rebuild \(name): \(error)")
        } catch {
            throw ProjectorError(code: .database, message: "rebuild \(name): \(error)")
        }
        guard let outcome else { return }
        for checkpoint in outcome.checkpoints {
            if let slot = slot(topic: checkpoint.topic, partition: checkpoint.partition) {
                position[slot] = max(position[slot], checkpoint.nextOffset)
            }
        }
        events += outcome.consumed
        batches += 1
        counters.add(outcome.counters)
        if projection.errorPolicy == .skip {
            for error in outcome.failedEvents {
                Log.warning("rebuild \(name): skipped \(projection.topics[error.topic]) partition \(error.partition) offset \(error.offset): \(error.code): \(error.message)")
            }
        }
        if let (error, topic) = outcome.failure {
            throw ProjectorError(
                code: .eventFailed,
                message: "rebuild \(name): topic \(topic) partition \(error.partition) offset \(error.offset): "
                    + "\(error.code): \(error.message) (the shadow keeps everything before it; the live views are untouched; "
                    + "fix the pipeline or set on_error: skip or dead-letter, then rebuild again)")
        }
        if let onProgress { onProgress(progress) }
    }


    // MARK: Reporting

    var progress: RebuildProgress {
        RebuildProgress(
            pipeline: projection.name,
            partitions: partitions.indices.map { slot in
                RebuildProgress.Partition(
                    topic: partitions[slot].topic, partition: partitions[slot].partition, start: start[slot],
                    position: position[slot], end: max(target[slot], start[slot]))
            },
            events: events, elapsed: ContinuousClock.now - started)
    }

    func summary(_ outcome: Rebuild.Summary.Outcome, wasResumed: Bool) -> Rebuild.Summary {
        let checkpoints = (try? store.checkpoints(pipeline: projection.name, target: outcome == .swapped ? .live : .shadow)) ?? []
        return Rebuild.Summary(
            pipeline: projection.name, outcome: outcome, wasResumed: wasResumed, events: events, batches: batches,
            elapsed: ContinuousClock.now - started, checkpoints: checkpoints, counters: counters)
    }
}
