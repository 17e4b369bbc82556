internal import Foundation
internal import Views

/// A thread that writes one full window at a time to the shadow on a connection of its own
/// (``SharedShadowWrites/openShadowWriter(pipeline:version:hash:views:)``), while the rebuild's
/// thread evaluates the next window: the write and the evaluation use both cores.
///
/// The rebuild hands over a window (``submit(_:)``) and, before it hands over the next, waits
/// for it (``wait()``), which returns the write's error if it failed. One window at a time: the
/// window's memory counts against the rebuild's budget until its write is done. Once a write
/// committed, the thread tells the rebuild's own connection which keys it wrote
/// (``SharedShadowWrites/adoptShadowWrites(pipeline:_:)``; the store serializes that with the
/// rebuild's reads), so the changes need not be kept until the rebuild waits.
// @unchecked Sendable: `job`, `busy`, `failure`, `stopping` and `stopped` are only touched under
// `condition`; `store` is used only by the writer thread, `reader` serializes its own accesses.
final class ShadowWindowWriter: @unchecked Sendable {
    private let store: any ViewStore
    /// The rebuild's own connection, which reads while this one writes.
    private let reader: any SharedShadowWrites
    private let pipeline: String
    private let condition = NSCondition()
    /// The window handed over and not yet written.
    private var job: FrozenWindow?
    /// Whether the thread has a window to write or is writing it.
    private var busy = false
    /// The last write's error, until ``wait()`` returns it.
    private var failure: (any Error)?
    /// Seconds the last write took, until ``takeWriteSeconds()`` returns them.
    private var writeSeconds: Double?
    private var stopping = false
    private var stopped = false

    init(store: any ViewStore, reader: any SharedShadowWrites, pipeline: String) {
        self.store = store
        self.reader = reader
        self.pipeline = pipeline
        let thread = Thread { [self] in run() }
        thread.name = "projector.rebuild.writer"
        thread.start()
    }

    /// Hands `window` to the writer thread; the previous one must have been waited for.
    func submit(_ window: FrozenWindow) {
        condition.lock()
        precondition(!busy, "a window was handed to the shadow writer before the previous one was waited for")
        job = window
        busy = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the window handed over is written and committed.
    /// - Throws: the write's error (nothing of that window was committed).
    func wait() throws {
        condition.lock()
        while busy { condition.wait() }
        let error = failure
        failure = nil
        condition.unlock()
        if let error { throw error }
    }

    /// Seconds the last write took once it is done (nil while it runs, or once taken): what a
    /// write costs, for the rebuild's ETA.
    func takeWriteSeconds() -> Double? {
        condition.lock()
        defer { condition.unlock() }
        guard !busy else { return nil }
        let seconds = writeSeconds
        writeSeconds = nil
        return seconds
    }

    /// Ends the thread once it is idle and waits for it.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        condition.unlock()
    }

    private func run() {
        condition.lock()
        while true {
            while job == nil && !stopping { condition.wait() }
            guard let window = job else { break }
            job = nil
            condition.unlock()
            var error: (any Error)?
            let started = ContinuousClock.now
            do {
                let changes = try store.write(pipeline: pipeline, target: .shadow) { transaction in try window.write(in: &transaction) }
                try reader.adoptShadowWrites(pipeline: pipeline, changes)
            } catch let failed {
                error = failed
            }
            let took = ContinuousClock.now - started
            condition.lock()
            failure = error
            writeSeconds = RebuildProgress.Estimator.seconds(took)
            busy = false
            condition.broadcast()
        }
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
