internal import Dispatch
internal import Foundation
public import Logging
public import Projector
internal import ServiceLifecycle
internal import Synchronization
internal import UnixSignals

/// Runs a process's synchronous work — the workers of `projector run` — beside the optional
/// operations server under one swift-service-lifecycle `ServiceGroup`.
///
/// SIGTERM and SIGINT become the group's graceful shutdown: the work is asked to stop through its
/// `ShutdownSignal` (the workers finish the batch in flight, commit and close their consumers), and
/// the server, which started first, shuts down only after the work returned, so the last scrape and
/// probes see the final state. The work starts once the server listens: an address that cannot be
/// bound fails the process before any batch.
public enum WorkerLifecycle {
    /// Where the operations server listens.
    public struct Listener: Sendable {
        /// The server.
        public var server: OperationsServer
        /// The address to listen on.
        public var host: String
        /// The port; 0 picks a free one.
        public var port: Int

        /// Creates a listener.
        public init(server: OperationsServer, host: String, port: Int) {
            self.server = server
            self.host = host
            self.port = port
        }
    }

    /// Runs `work` on a thread of its own until it returns, with the server (when given) around it.
    /// - Parameters:
    ///   - listener: the operations server and its address, or nil for none.
    ///   - logger: the group's and the server's logger.
    ///   - onListening: called with the bound port before the work starts.
    ///   - work: the workers; they stop when the signal they are given is triggered.
    /// - Returns: what `work` returned.
    /// - Throws: the server's error when it cannot listen (the work then never starts).
    public static func run<Output: Sendable>(
        listener: Listener?, logger: Logger, onListening: @escaping @Sendable (Int) -> Void = { _ in },
        work: @escaping @Sendable (ShutdownSignal) -> Output
    ) throws -> Output {
        let workload = Workload(work: work, waitsForListener: listener != nil)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let listener {
            let application = listener.server.makeApplication(host: listener.host, port: listener.port, logger: logger) { port in
                onListening(port)
                workload.listening()
            }
            services.append(.init(service: application, serviceName: "http"))
        }
        // Services shut down in reverse order: the workload first, then the server.
        services.append(.init(service: workload, successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "workers"))
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let finished = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        Task.detached {
            do {
                try await group.run()
            } catch {
                failure.withLock { $0 = error }
            }
            finished.signal()
        }
        finished.wait()
        if let output = workload.output { return output }
        throw failure.withLock { $0 } ?? CancellationError()
    }
}

/// The synchronous work as a `Service`: it waits for the server to listen, runs the work on its own
/// thread, and turns the group's graceful shutdown into the work's `ShutdownSignal`.
private final class Workload<Output: Sendable>: Service, Sendable {
    private let work: @Sendable (ShutdownSignal) -> Output
    private let signal = ShutdownSignal()
    private let ready: AsyncStream<Void>
    private let readyContinuation: AsyncStream<Void>.Continuation
    private let result = Mutex<Output?>(nil)

    init(work: @escaping @Sendable (ShutdownSignal) -> Output, waitsForListener: Bool) {
        self.work = work
        (ready, readyContinuation) = AsyncStream.makeStream(of: Void.self)
        if !waitsForListener { readyContinuation.yield() }
    }

    /// What the work returned, once it ran.
    var output: Output? { result.withLock { $0 } }

    /// The server accepts connections: the work may start.
    func listening() { readyContinuation.yield() }

    func run() async {
        // Cancelled (the server failed to bind) before the server listened: the work never starts.
        var iterator = ready.makeAsyncIterator()
        guard await iterator.next() != nil, !Task.isCancelled else { return }
        await withGracefulShutdownHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let thread = Thread { [self] in
                    let output = work(signal)
                    result.withLock { $0 = output }
                    continuation.resume()
                }
                thread.name = "projector.workers"
                thread.start()
            }
        } onGracefulShutdown: { [signal] in
            signal.trigger()
        }
    }
}
