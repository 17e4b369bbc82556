import Pipelines

/// Event counts by outcome for a summary line, e.g. `applied 18, filtered 0, deduplicated 0,
/// ignored types 0, skipped 0, dead-lettered 4 (parked 1)`.
func outcomeSummary(_ counters: PlanResult.Counters) -> String {
    "applied \(counters.applied), filtered \(counters.filtered), deduplicated \(counters.deduplicated), "
        + "ignored types \(counters.ignoredUnknownType), skipped \(counters.skipped), "
        + "dead-lettered \(counters.deadLettered) (parked \(counters.parked))"
}
