internal import Foundation
internal import KafkaClient
internal import Logging
public import Pipelines
public import Views
public import ProjectorModel

/// Recomputes a pipeline's views from the earliest offsets into shadow tables, then swaps them in
/// (docs/ARCHITECTURE.md, "Shadow tables and swap"), or builds them as of a past moment (`--until`).
///
/// The rebuild reads every source partition with its own consumer (manual assignment, no group:
/// live workers keep their partitions) and applies batches to the shadow through `BatchApplier`,
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
        /// Windows of folded rows this run wrote to the shadow, each in one transaction.
        public var windowsWritten = 0
        /// Of ``windowsWritten``, those written on a second connection while the rebuild read
        /// on (a file store in WAL mode, a pipeline without timers): the rebuild used both cores.
        public var windowsWrittenWhileReading = 0
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
            reader.logger.warning("rebuild \(projection.name): not resuming a shadow with --until TIME; starting over")
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

