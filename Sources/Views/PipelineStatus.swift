public import ProjectorModel

/// The identity and progress of one pipeline in a store, for `projector status`.
public struct PipelineStatus: Sendable, Hashable {
    /// The pipeline name.
    public var name: String
    /// The definition version that built the live views.
    public var version: Int
    /// The hash of the normalised definition that built the live views.
    public var hash: String
    /// When the pipeline was first prepared, ISO-8601.
    public var createdAt: String
    /// When a rebuild was last swapped in, ISO-8601, or `nil` when never.
    public var rebuiltAt: String?
    /// The live view tables, by name.
    public var views: [String]
    /// The live checkpoints, ordered by topic and partition.
    public var checkpoints: [Checkpoint]
    /// The rebuild in progress, or `nil` when there is none.
    public var shadow: ShadowStatus?
    /// The live dead letters.
    public var deadLetters: Int
    /// The live dead letters not yet produced to the dead-letter topic (`dead_letter.topic`).
    public var unpublishedDeadLetters: Int
    /// The emitted records (`emit:`) committed and not yet acknowledged by the broker: the depth
    /// of `_projector_outbox_<pipeline>`.
    public var outboxRecords: Int = 0
    /// Whether the pipeline has an outbox (its definition has `emit:` operations).
    public var hasOutbox = false
    /// The smallest event timestamp (ms since the epoch) of those records, or `nil` when there is
    /// none or none has a timestamp: how old the oldest unsent record is.
    public var oldestUnsentTimestamp: Int64?
    /// The durable timers (`schedule:`) not yet fired, or `nil` when the definition has none:
    /// the rows of `_projector_timers_<pipeline>`.
    public var pendingTimers: Int?

    /// Creates a status.
    public init(
        name: String, version: Int, hash: String, createdAt: String, rebuiltAt: String?,
        views: [String], checkpoints: [Checkpoint], shadow: ShadowStatus?,
        deadLetters: Int = 0, unpublishedDeadLetters: Int = 0
    ) {
        self.deadLetters = deadLetters
        self.unpublishedDeadLetters = unpublishedDeadLetters
        self.name = name
        self.version = version
        self.hash = hash
        self.createdAt = createdAt
        self.rebuiltAt = rebuiltAt
        self.views = views
        self.checkpoints = checkpoints
        self.shadow = shadow
    }
}

/// A shadow generation of a pipeline's views: a rebuild in progress.
public struct ShadowStatus: Sendable, Hashable {
    /// The definition version the shadow is built with.
    public var version: Int
    /// The definition hash the shadow is built with.
    public var hash: String
    /// When the rebuild started, ISO-8601.
    public var createdAt: String
    /// The shadow checkpoints, ordered by topic and partition.
    public var checkpoints: [Checkpoint]

    /// Creates a shadow status.
    public init(version: Int, hash: String, createdAt: String, checkpoints: [Checkpoint]) {
        self.version = version
        self.hash = hash
        self.createdAt = createdAt
        self.checkpoints = checkpoints
    }
}

/// The rows of one view, for printing.
public struct ViewRows: Sendable, Hashable {
    /// The column names in declaration order.
    public var columns: [String]
    /// The rows ordered by primary key, each in column order.
    public var rows: [[ViewValue]]

    /// Creates a set of rows.
    public init(columns: [String], rows: [[ViewValue]]) {
        self.columns = columns
        self.rows = rows
    }
}

/// A digest of a view's content for `projector verify`: equal views have equal digests.
///
/// Order independent (the sum of a 128-bit hash of every row's canonical encoding) and type
/// exact (integer `1`, real `1.0` and text `'1'` encode differently).
public struct ViewDigest: Sendable, Hashable, CustomStringConvertible {
    /// The number of rows.
    public var rowCount: Int
    /// High 64 bits of the 128-bit sum.
    public var high: UInt64
    /// Low 64 bits of the 128-bit sum.
    public var low: UInt64

    /// Creates a digest.
    public init(rowCount: Int, high: UInt64, low: UInt64) {
        self.rowCount = rowCount
        self.high = high
        self.low = low
    }

    /// `<rows>:<32 hex digits>`.
    public var description: String {
        "\(rowCount):" + hex(high) + hex(low)
    }

    private func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Which generation of a pipeline's tables a write goes to.
public enum ViewTarget: Sendable, Hashable {
    /// The live views that readers query.
    case live
    /// The shadow generation a rebuild fills before ``ViewStore/swap(pipeline:newVersion:newHash:time:)``.
    case shadow
}

/// What ``ViewStore/prepareShadow(pipeline:version:hash:views:time:)`` found.
public enum ShadowPreparation: Sendable, Hashable {
    /// A new, empty shadow generation (any shadow of another definition was dropped).
    case started
    /// A shadow of the same definition survived (a crash or stop); resume from its checkpoints.
    case resumed
}
