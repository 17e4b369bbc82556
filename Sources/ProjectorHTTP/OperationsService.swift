internal import Dispatch
public import Logging
internal import ServiceLifecycle
internal import Synchronization

/// Runs an ``OperationsServer`` beside synchronous workers: started before them, and shut down
/// gracefully after they stopped (swift-service-lifecycle's `ServiceGroup`), so the last scrape
/// and probes see the final state.
public final class OperationsService: Sendable {
    private let group: ServiceGroup
    private let finished = DispatchSemaphore(value: 0)
    private let failure = Mutex<(any Error)?>(nil)

    /// Starts listening and waits until the port is bound (or binding failed).
    /// - Returns: the service and the bound port.
    /// - Throws: the server's error when it cannot listen.
    public static func start(_ server: OperationsServer, host: String, port: Int, logger: Logger) throws -> (OperationsService, Int) {
        let bound = DispatchSemaphore(value: 0)
        let boundPort = Mutex<Int?>(nil)
        let application = server.makeApplication(host: host, port: port, logger: logger) { port in
            boundPort.withLock { $0 = port }
            bound.signal()
        }
        let service = OperationsService(group: ServiceGroup(services: [application], logger: logger))
        // The server's tasks (and each connection's, which inherit the preference) run on threads
        // of their own: workers and commands block the threads they run on, and a busy
        // cooperative pool must not stall a scrape or a read.
        Task(executorPreference: ServerExecutor.shared) { [service] in
            do {
                try await service.group.run()
            } catch {
                service.failure.withLock { $0 = error }
            }
            bound.signal()
            service.finished.signal()
        }
        bound.wait()
        if let error = service.failure.withLock({ $0 }) { throw error }
        guard let port = boundPort.withLock({ $0 }) else { throw CancellationError() }
        return (service, port)
    }

    private init(group: ServiceGroup) { self.group = group }

    /// Stops accepting requests, finishes those in flight, and returns once the server is down.
    public func stop() {
        Task.detached { [group] in await group.triggerGracefulShutdown() }
        finished.wait()
    }
}

/// A task executor on a concurrent Dispatch queue: threads outside Swift's cooperative pool.
final class ServerExecutor: TaskExecutor {
    static let shared = ServerExecutor()
    private let queue = DispatchQueue(label: "projector.http", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
