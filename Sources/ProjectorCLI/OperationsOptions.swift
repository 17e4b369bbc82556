import ArgumentParser
import Foundation
import Logging
import Projector
import ProjectorHTTP
import PostgresViews
import Views

/// `--http`, `--ready-max-lag-seconds` and `--stall-after`, shared by `run` and `rebuild`.
struct OperationsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Serve GET /metrics, /healthz, /readyz and the read API (/views) on host:port (off by default; port 0 picks one).",
                               valueName: "host:port"))
    var http: String?

    @OptionGroup var read: ReadAPIOptions

    @Option(help: ArgumentHelp("/readyz answers 503 while a partition's oldest unapplied record is older than this.",
                               valueName: "seconds"))
    var readyMaxLagSeconds: Double?

    @Option(help: ArgumentHelp("The window of the partition status rules: stall, stop, idle and warn hold this long first.",
                               valueName: "seconds"))
    var stallAfter: Double = 30

    func validate() throws {
        guard stallAfter > 0, stallAfter <= 86_400 else { throw ValidationError("--stall-after must be more than 0 and at most 86400 seconds.") }
        if let readyMaxLagSeconds, readyMaxLagSeconds < 0 { throw ValidationError("--ready-max-lag-seconds must not be negative.") }
        if let http, Self.split(http) == nil { throw ValidationError("--http expects host:port, e.g. 127.0.0.1:9464; got '\(http)'.") }
    }

    /// `--http` as host and port.
    var address: (host: String, port: Int)? { http.flatMap(Self.split) }

    /// The registry every worker of the command reports to.
    func makeMetrics() -> RuntimeMetrics {
        RuntimeMetrics(stallAfter: .milliseconds(Int64(stallAfter * 1000)), logger: Logger(label: "projector.runtime"))
    }

    /// Starts the server when `--http` was given; dead letters are read from `db` (opened with
    /// `database`) at each scrape, and the read API serves its views. `topics` are the source topics
    /// of the pipelines the process runs, by pipeline name (the partitions a read may wait for);
    /// `messageKeyed` their views keyed by the message key (a key's read waits for its partition only).
    /// - Throws: exit 1 when the address cannot be bound.
    func start(metrics: RuntimeMetrics, db: String?, database: DatabaseOptions?, topics: [String: Set<String>] = [:],
               messageKeyed: Set<String> = []) throws -> OperationsService? {
        try serve(metrics: metrics, db: db, database: database, topics: topics, messageKeyed: messageKeyed)?.service
    }

    /// ``start(metrics:db:database:topics:)``, with the bound port (port 0 picks one).
    func serve(metrics: RuntimeMetrics, db: String?, database: DatabaseOptions?,
               topics: [String: Set<String>] = [:], messageKeyed: Set<String> = []) throws -> (service: OperationsService, port: Int)? {
        guard let listener = try listener(metrics: metrics, db: db, database: database, topics: topics, messageKeyed: messageKeyed) else { return nil }
        let logger = Logger(label: "projector.http")
        do {
            let (service, bound) = try OperationsService.start(listener.server, host: listener.host, port: listener.port, logger: logger)
            logListening(bound, logger: logger)
            return (service, bound)
        } catch {
            throw cannotListen(error)
        }
    }

    /// Runs `work` under one service group with the server when `--http` was given (`run`): SIGTERM
    /// and SIGINT drain the work, then the server stops.
    /// - Throws: exit 1 when the address cannot be bound; nothing ran then.
    func run<Output: Sendable>(
        metrics: RuntimeMetrics, db: String?, database: DatabaseOptions, topics: [String: Set<String>],
        messageKeyed: Set<String> = [], work: @escaping @Sendable (ShutdownSignal) -> Output
    ) throws -> Output {
        let logger = Logger(label: "projector.http")
        let listener = try listener(metrics: metrics, db: db, database: database, topics: topics, messageKeyed: messageKeyed)
        do {
            return try WorkerLifecycle.run(listener: listener, logger: logger,
                                           onListening: { logListening($0, logger: logger) }, work: work)
        } catch {
            throw cannotListen(error)
        }
    }

    private func listener(metrics: RuntimeMetrics, db: String?, database: DatabaseOptions?,
                          topics: [String: Set<String>], messageKeyed: Set<String>) throws -> WorkerLifecycle.Listener? {
        guard let http, let (host, port) = Self.split(http) else { return nil }
        let readAPI = try db.map { db in try read.makeAPI(db: db, database: database ?? DatabaseOptions.parse([]), topics: topics, messageKeyed: messageKeyed) }
        let server = OperationsServer(metrics: metrics, version: projectorVersion, readyMaxLagSeconds: readyMaxLagSeconds,
                                      extraFamilies: { db.flatMap { db in database.map { storeFamilies(db: db, database: $0) } } ?? [] },
                                      readAPI: readAPI)
        return WorkerLifecycle.Listener(server: server, host: host, port: port)
    }

    private func logListening(_ port: Int, logger: Logger) {
        guard let http, let (host, _) = Self.split(http) else { return }
        logger.info("serving http://\(host):\(port)/metrics, /healthz, /readyz and /views", metadata: ["port": .stringConvertible(port)])
    }

    private func cannotListen(_ error: any Error) -> ExitCode {
        printError("error: --http \(http ?? ""): cannot listen: \(error)")
        return ExitCode(ExitStatus.runtime)
    }

    static func split(_ address: String) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (0 ... 65_535).contains(port), colon != address.startIndex else { return nil }
        return (String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
    }
}

/// `projector_dead_letters`, `projector_dead_letters_unpublished`, `projector_outbox_records`,
/// `projector_outbox_oldest_unsent_age_seconds` and `projector_timers_pending`, read from the store (the truth).
private func storeFamilies(db: String, database: DatabaseOptions) -> [MetricFamily] {
    guard let store = database.quietReader(db),
          let pipelines = try? store.pipelines() else { return [] }
    let now = Date().timeIntervalSince1970
    let emitting = pipelines.filter(\.hasOutbox)
    return [
        MetricFamily(name: "projector_outbox_records", help: "Emitted records committed and not yet acknowledged by the broker.",
                     kind: .gauge, samples: emitting.map { .init(labels: [("pipeline", $0.name)], value: Double($0.outboxRecords)) }),
        MetricFamily(name: "projector_outbox_oldest_unsent_age_seconds",
                     help: "Age of the oldest emitted record not yet produced, from the timestamp of the event that emitted it; 0 when none.",
                     kind: .gauge, samples: emitting.map { pipeline in
                         .init(labels: [("pipeline", pipeline.name)],
                               value: pipeline.oldestUnsentTimestamp.map { max(0, now - Double($0) / 1_000) } ?? 0)
                     }),
        MetricFamily(name: "projector_timers_pending", help: "Durable timers scheduled and not yet fired or cancelled.",
                     kind: .gauge, samples: pipelines.compactMap { pipeline in
                         pipeline.pendingTimers.map { .init(labels: [("pipeline", pipeline.name)], value: Double($0)) }
                     }),
        MetricFamily(name: "projector_dead_letters", help: "Dead letters stored with the views.", kind: .gauge,
                     samples: pipelines.map { .init(labels: [("pipeline", $0.name)], value: Double($0.deadLetters)) }),
        MetricFamily(name: "projector_dead_letters_unpublished", help: "Stored dead letters not yet produced to the dead-letter topic.",
                     kind: .gauge, samples: pipelines.map { .init(labels: [("pipeline", $0.name)], value: Double($0.unpublishedDeadLetters)) }),
    ]
}
