#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thrown by ``waitUntil(deadline:pollInterval:_:_:)`` when the condition did not hold in time.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    /// What was awaited.
    public var what: String
    /// How long it was awaited.
    public var deadline: Duration
    /// What was awaited and for how long.
    public var description: String { "waited \(deadline) for \(what), in vain" }
}

/// Evaluates `condition` until it returns true, or throws ``DeadlineExceeded`` after `deadline`.
///
/// Use it instead of fixed sleeps: the condition usually does the work itself (e.g. polls a
/// consumer with a short timeout), so `pollInterval` only spaces out cheap checks.
/// - Parameters:
///   - deadline: the longest time to wait.
///   - pollInterval: the pause between two evaluations (default 5 ms).
///   - what: what is awaited, for the error message.
///   - condition: evaluated on the calling thread.
public func waitUntil(
    deadline: Duration = .seconds(15),
    pollInterval: Duration = .milliseconds(5),
    _ what: String = "condition",
    _ condition: () throws -> Bool
) throws {
    let clock = ContinuousClock()
    let end = clock.now + deadline
    while true {
        if try condition() { return }
        if clock.now >= end { throw DeadlineExceeded(what: what, deadline: deadline) }
        let (seconds, attoseconds) = pollInterval.components
        usleep(useconds_t(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
    }
}
