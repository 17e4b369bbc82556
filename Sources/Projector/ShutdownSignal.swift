internal import Synchronization

/// A one-way flag that asks workers to stop: set from a signal handler or another thread, read by
/// each worker loop between polls.
public final class ShutdownSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    /// Creates an untriggered signal.
    public init() {}

    /// Asks every worker watching this signal to finish its batch and stop.
    public func trigger() { flag.store(true, ordering: .releasing) }

    /// Whether a stop was asked for.
    public var isTriggered: Bool { flag.load(ordering: .acquiring) }
}
