/// A partition's health by Burrow's rules, judged in-process from exact checkpoints and lag.
///
/// Lag tools outside the worker guess from group offsets; the worker knows its checkpoints, so it
/// can tell a quiet topic (`idle`) from a wedged worker (`stall`, `stop`).
public enum PartitionStatus: String, Sendable, CaseIterable, Codable {
    /// Progressing, or caught up and recently moved.
    case ok
    /// Caught up with nothing new for the window: never an alarm.
    case idle
    /// Advancing, but the lag grew over the last window.
    case warn
    /// Records are waiting and the checkpoint has not moved for the window.
    case stall
    /// Assigned, but the worker loop has not polled for the window (and no batch is in flight).
    case stop
    /// The checkpoint went backwards without a rebuild of ours (someone else reset it).
    case rewind
}

/// Burrow's rules over what one partition did recently (`--stall-after` is the window).
struct PartitionStatusRule: Sendable {
    /// How long a condition must hold before it counts.
    var window: Duration

    /// The status now.
    /// - Parameters:
    ///   - lag: records not yet applied.
    ///   - previousLag: the lag one window ago, if a window passed since assignment.
    ///   - sinceMove: how long the checkpoint has not moved (since assignment when it never moved).
    ///   - sincePoll: how long since the worker loop last polled.
    ///   - batchInFlight: whether a polled batch is still being applied.
    ///   - sinceRewind: how long since the checkpoint last went backwards, if it did.
    func status(lag: Int64, previousLag: Int64?, sinceMove: Duration, sincePoll: Duration, batchInFlight: Bool,
                sinceRewind: Duration?) -> PartitionStatus {
        if let sinceRewind, sinceRewind < window { return .rewind }
        if !batchInFlight && sincePoll >= window { return .stop }
        if sinceMove >= window { return lag > 0 ? .stall : .idle }
        if lag > 0, let previousLag, lag > previousLag { return .warn }
        return .ok
    }
}
