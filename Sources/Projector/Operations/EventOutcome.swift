internal import Pipelines

/// What happened to a consumed event, as counted by `projector_events_total{outcome}` and `status`.
public enum EventOutcome: String, Sendable, CaseIterable, Codable {
    /// Its handlers ran.
    case applied
    /// `source.filter` dropped it.
    case filtered
    /// `dedupe_by` saw its id before.
    case deduplicated
    /// No handler for its type (`on_unknown_type: ignore`).
    case ignoredType = "ignored_type"
    /// It failed under `on_error: skip`.
    case skipped
    /// It failed under `on_error: dead-letter` (parked ones included).
    case deadLettered = "dead_lettered"
    /// It was dead-lettered without running because its key is parked.
    case parked

    /// The counts of one batch by outcome, in `allCases` order.
    static func counts(_ counters: PlanResult.Counters) -> [UInt64] {
        [counters.applied, counters.filtered, counters.deduplicated, counters.ignoredUnknownType, counters.skipped,
         counters.deadLettered, counters.parked].map { UInt64(max(0, $0)) }
    }
}
