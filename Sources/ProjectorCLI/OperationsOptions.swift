import ArgumentParser
import Foundation
import Logging
import Projector
import ProjectorHTTP
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

    /// Starts the server when `--http` was given; dead letters are read from `db` at each scrape.
    /// - Throws: exit 1 when the address cannot be bound.
    /// `topics` are the source topics of the pipelines the process runs, by pipeline name.
    func start(metrics: RuntimeMetrics, db: String?, topics: [String: Set<String>] = [:]) throws -> OperationsService? {
        guard let http, let (host, port) = Self.split(http) else { return nil }
        let readAPI = try db.map { try read.makeAPI(db: $0, topics: topics) }
        let server = OperationsServer(metrics: metrics, version: projectorVersion, readyMaxLagSeconds: readyMaxLagSeconds,
                                      extraFamilies: { db.map(deadLetterFamilies(db:)) ?? [] }, readAPI: readAPI)
        let logger = Logger(label: "projector.http")
        do {
            let (service, bound) = try OperationsService.start(server, host: host, port: port, logger: logger)
            logger.info("serving http://\(host):\(bound)/metrics, /healthz, /readyz and /views", metadata: ["port": .stringConvertible(bound)])
            return service
        } catch {
            printError("error: --http \(http): cannot listen: \(error)")
            throw ExitCode(ExitStatus.runtime)
        }
    }

    static func split(_ address: String) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (0 ... 65_535).contains(port), colon != address.startIndex else { return nil }
        return (String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
    }
}

/// `projector_dead_letters` and `projector_dead_letters_unpublished`, read from the store (the truth).
private func deadLetterFamilies(db: String) -> [MetricFamily] {
    guard let store = try? SQLiteViewStore(path: db, configuration: .init(isReadOnly: true)),
          let pipelines = try? store.pipelines() else { return [] }
    return [
        MetricFamily(name: "projector_dead_letters", help: "Dead letters stored with the views.", kind: .gauge,
                     samples: pipelines.map { .init(labels: [("pipeline", $0.name)], value: Double($0.deadLetters)) }),
        MetricFamily(name: "projector_dead_letters_unpublished", help: "Stored dead letters not yet produced to the dead-letter topic.",
                     kind: .gauge, samples: pipelines.map { .init(labels: [("pipeline", $0.name)], value: Double($0.unpublishedDeadLetters)) }),
    ]
}
