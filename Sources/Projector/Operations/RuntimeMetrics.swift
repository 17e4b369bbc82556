public import Logging
internal import Synchronization

/// The measurements of every worker in a process: the seam between the runtime and whatever
/// exports them (the `--http` server renders them as Prometheus text and health probes).
///
/// Pass one to ``WorkerConfiguration/metrics`` (a rebuild reports through ``setRebuild(_:)``); the runtime
/// registers each pipeline on start. Nothing here depends on HTTP.
public final class RuntimeMetrics: Sendable {
    /// How long a partition's condition must hold before it is `stall`, `stop`, `idle` or `warn`
    /// (`--stall-after`); also how long a silent worker loop stays live.
    public let stallAfter: Duration
    private let logger: Logger
    private let pipelines = Mutex<[PipelineMetrics]>([])
    private let rebuilds = Mutex<[String: RebuildSnapshot]>([:])

    /// Creates an empty registry.
    /// - Parameters:
    ///   - stallAfter: the window of the partition status rules.
    ///   - logger: where partition status changes are logged.
    public init(stallAfter: Duration = .seconds(30), logger: Logger = Logger(label: "projector.runtime")) {
        self.stallAfter = stallAfter
        self.logger = logger
    }

    /// The measurements of `pipeline`, created on first use.
    public func pipeline(_ pipeline: String) -> PipelineMetrics {
        pipelines.withLock { all in
            if let existing = all.first(where: { $0.pipeline == pipeline }) { return existing }
            let created = PipelineMetrics(pipeline: pipeline, stallAfter: stallAfter, logger: logger)
            all.append(created)
            return created
        }
    }

    /// Every registered pipeline's state, in registration order.
    public func snapshots() -> [PipelineSnapshot] {
        pipelines.withLock { $0 }.map { $0.snapshot() }
    }

    /// Records a rebuild's progress.
    public func setRebuild(_ snapshot: RebuildSnapshot) {
        rebuilds.withLock { $0[snapshot.pipeline] = snapshot }
    }

    /// Every rebuild's latest progress, by pipeline name.
    public func rebuildSnapshots() -> [RebuildSnapshot] {
        rebuilds.withLock { $0.values.sorted { $0.pipeline < $1.pipeline } }
    }
}

/// How far a rebuild got, for `projector_rebuild_*`.
public struct RebuildSnapshot: Sendable {
    /// The pipeline rebuilt.
    public var pipeline: String
    /// Events applied to the shadow so far.
    public var eventsDone: Int64
    /// Events up to the rebuild's target.
    public var eventsTarget: Int64
    /// The estimated seconds left, or nil before the rate is known.
    public var etaSeconds: Double?

    /// Creates a snapshot.
    public init(pipeline: String, eventsDone: Int64, eventsTarget: Int64, etaSeconds: Double?) {
        self.pipeline = pipeline
        self.eventsDone = eventsDone
        self.eventsTarget = eventsTarget
        self.etaSeconds = etaSeconds
    }
}
