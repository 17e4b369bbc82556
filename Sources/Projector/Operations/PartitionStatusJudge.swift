/// Burrow's rules for an observer outside the worker (`projector status --watch`): it sees only
/// successive samples of checkpoints and lag, so it judges ok, idle, warn, stall and rewind; `stop`
/// needs the worker's own heartbeat and is only reported in-process (`/metrics`).
public struct PartitionStatusJudge: Sendable {
    private struct Seen: Sendable {
        var checkpoint: Int64
        var movedAt: ContinuousClock.Instant
        var windowStart: ContinuousClock.Instant
        var windowLag: Int64
        var previousLag: Int64?
        var rewoundAt: ContinuousClock.Instant?
    }

    private let rule: PartitionStatusRule
    private var seen: [String: Seen] = [:]

    /// Creates a judge whose conditions must hold for `window` (`--stall-after`).
    public init(window: Duration) { rule = PartitionStatusRule(window: window) }

    /// The status of a partition given its latest sample; the first sample of a partition is `ok`.
    public mutating func status(topic: String, partition: Int32, checkpoint: Int64, lag: Int64,
                                at now: ContinuousClock.Instant = .now) -> PartitionStatus {
        let key = "\(topic)/\(partition)"
        var state = seen[key] ?? Seen(checkpoint: checkpoint, movedAt: now, windowStart: now, windowLag: lag)
        if checkpoint < state.checkpoint { state.rewoundAt = now }
        if checkpoint != state.checkpoint { state.movedAt = now }
        state.checkpoint = checkpoint
        if now - state.windowStart >= rule.window {
            state.previousLag = state.windowLag
            state.windowLag = lag
            state.windowStart = now
        }
        seen[key] = state
        return rule.status(lag: lag, previousLag: state.previousLag, sinceMove: now - state.movedAt, sincePoll: .zero,
                           batchInFlight: false, sinceRewind: state.rewoundAt.map { now - $0 })
    }
}
