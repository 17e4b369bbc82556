public import ProjectorModel

/// What one `Plan.run` did.
public struct PlanResult: Sendable {
    /// Event counts by outcome.
    public struct Counters: Sendable, Hashable {
        /// Events whose handlers ran (tombstones with a `_tombstone` handler included).
        public var applied = 0
        /// Events of a type without handler, ignored (`on_unknown_type: ignore`).
        public var ignoredUnknownType = 0
        /// Events for which `source.filter` was false or null.
        public var filtered = 0
        /// Events whose `dedupe_by` id was seen before.
        public var deduplicated = 0
        /// `update` or `delete` operations whose row did not exist.
        public var noOpUpdates = 0
        /// Tombstones without a `_tombstone` handler.
        public var tombstonesSkipped = 0
        /// Failed events under `on_error: skip`.
        public var skipped = 0
        /// Failed events under `on_error: dead-letter` (parked ones included).
        public var deadLettered = 0
        /// Events dead-lettered without running because their key is parked (`dead_letter.park_key`).
        public var parked = 0

        /// Creates zero counters.
        public init() {}
    }

    /// One change per touched row whose final state differs from what was read, in first-touch order.
    public var changes: [ViewChange]
    /// The failed events (under `fail`, only the one that stopped the batch).
    public var errors: [EventError]
    /// Under `on_error: fail`, the index of the first failing message; `changes` then hold exactly
    /// the effect of the messages before it.
    public var stoppedAt: Int?
    /// Event counts by outcome.
    public var counters: Counters
    /// Events of a type without handler, ignored, by type name (empty when none).
    public var ignoredTypes: [String: Int] = [:]

    /// Creates a result (for tests and for stores that replay results).
    public init(changes: [ViewChange], errors: [EventError], stoppedAt: Int?, counters: Counters) {
        self.changes = changes
        self.errors = errors
        self.stoppedAt = stoppedAt
        self.counters = counters
    }
}
