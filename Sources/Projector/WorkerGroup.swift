internal import Foundation

/// Runs several workers at once, each on its own thread (pub/sub fan-out: one consumer group per
/// pipeline), and waits for all of them.
public enum WorkerGroup {
    /// Runs every worker until `signal`, its end, or its failure; the first failure stops the others.
    /// - Returns: each worker's result, in the order given.
    public static func run(_ workers: [Worker], until signal: ShutdownSignal) -> [Result<Worker.Progress, ProjectorError>] {
        let results = ResultSlots(count: workers.count)
        let done = DispatchGroup()
        for (index, worker) in workers.enumerated() {
            done.enter()
            // A dedicated thread, not the cooperative pool: the loop blocks in librdkafka and SQLite.
            let thread = Thread {
                let result = Result { () throws(ProjectorError) in try worker.run(until: signal) }
                if case .failure = result { signal.trigger() }
                results.set(index, result)
                done.leave()
            }
            thread.name = "projector.worker.\(worker.projection.name)"
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        return results.all
    }
}

/// Results written by worker threads, read after they all finished.
private final class ResultSlots: @unchecked Sendable {
    // Each slot is written by exactly one worker thread; read only after DispatchGroup.wait.
    private var slots: [Result<Worker.Progress, ProjectorError>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<Worker.Progress, ProjectorError>) {
        lock.withLock { slots[index] = result }
    }

    var all: [Result<Worker.Progress, ProjectorError>] { lock.withLock { slots.map { $0! } } }
}
