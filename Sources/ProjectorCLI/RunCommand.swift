import ArgumentParser
import Foundation
import Pipelines
import Projector
import ProjectorHTTP

/// `projector run`: keeps views current from Kafka, exactly once in effect.
struct RunCommand: ParsableCommand, ConfiguresLogging {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Keep the views of one or more pipelines current from Kafka.",
        discussion: """
        Each pipeline gets its own consumer, thread and consumer group (default group id \
        projector.<pipeline name>). On every partition assignment the worker starts at the checkpoint \
        stored with the views (earliest when none); each batch's rows and checkpoints commit in one \
        SQLite transaction. SIGINT/SIGTERM (swift-service-lifecycle's graceful shutdown) finish the batch in \
        flight, commit, close the consumers and exit 0.

        --http host:port serves GET /metrics (Prometheus text), /healthz and /readyz (JSON, 200 or 503); \
        the server stops after the workers. Partition status changes (ok, idle, warn, stall, stop, \
        rewind; --stall-after is their window) are logged. The summary line on stderr counts events \
        by outcome, dead letters included.

        Exit codes: 0 ok, 1 broker or database failure, 2 bad usage, an invalid pipeline, or views \
        built (or swapped in by a rebuild) by another definition, 3 an event error under on_error: fail \
        (everything before it is committed). A refused definition prints the command to run next.

        Examples:
          projector run pipelines/order_summary.yaml --brokers 127.0.0.1:9092 --db views.sqlite
          projector run pipelines/*.yaml --brokers kafka:9092 --db views.sqlite -X fetch.wait.max.ms=50
          projector run pipelines/inventory.yaml --brokers 127.0.0.1:9092 --db views.sqlite --exit-at-end
          projector run pipelines/*.yaml --brokers kafka:9092 --db views.sqlite --http 0.0.0.0:9464 --log-format json
        """)

    @Argument(help: "Pipeline files (YAML).")
    var pipelines: [String]

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "Where the views and checkpoints live: an SQLite file (created if missing) or a postgres://user@host:port/db URL.")
    var db: String

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The consumer group id (only with one pipeline; default projector.<pipeline name>).")
    var group: String?

    @Flag(help: "Stop once every assigned partition reaches the high watermark seen when it was assigned.")
    var exitAtEnd = false

    @Option(help: "The most messages in one batch, i.e. one SQLite transaction.")
    var batchSize = 10_000

    @Option(help: ArgumentHelp(
        "Seconds a batch waits for another connection's lock on the SQLite file before the worker fails; on PostgreSQL, for "
            + "another worker's lock, a free connection slot, and a new connection after the server went away.",
        valueName: "seconds"))
    var busyTimeout: Double = 60

    @Option(help: ArgumentHelp("Seconds the worker waits for the cluster's first answer before it fails.", valueName: "seconds"))
    var connectTimeout: Double = 15

    @OptionGroup var operations: OperationsOptions

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be at least 1.") }
        guard busyTimeout >= 0, busyTimeout <= 86_400 else { throw ValidationError("--busy-timeout must be between 0 and 86400 seconds.") }
        guard connectTimeout > 0, connectTimeout <= 86_400 else {
            throw ValidationError("--connect-timeout must be more than 0 and at most 86400 seconds.")
        }
        if group != nil && pipelines.count > 1 {
            throw ValidationError("--group is valid with one pipeline only: each pipeline has its own consumer group.")
        }
    }

    func run() throws {
        let plans = try loadPlans(pipelines)
        var properties = try kafka.librdkafka.properties(command: "run")
        if operations.http != nil, properties["statistics.interval.ms"] == nil {
            // librdkafka's view (round trips, fetch queues) for /metrics; -X statistics.interval.ms overrides.
            properties["statistics.interval.ms"] = "10000"
        }
        let metrics = operations.makeMetrics()
        var workers: [Worker] = []
        for plan in plans {
            var configuration = WorkerConfiguration(brokers: kafka.brokers, groupID: group, properties: properties,
                                                    exitsAtEnd: exitAtEnd, maxBatchMessages: batchSize)
            configuration.connectTimeout = .milliseconds(Int64(connectTimeout * 1000))
            configuration.metrics = metrics
            workers.append(Worker(
                projection: plan, store: try openStore(db, database: database, busyTimeout: .milliseconds(Int64(busyTimeout * 1000))),
                configuration: configuration))
        }
        let running = workers
        let topics = Dictionary(plans.map { ($0.name, Set($0.pipeline.topics)) }) { $0.union($1) }
        let messageKeyed = Set(plans.flatMap(\.pipeline.messageKeyedViews))
        let results = try operations.run(metrics: metrics, db: db, database: database, topics: topics, messageKeyed: messageKeyed) { signal in
            WorkerGroup.run(running, until: signal)
        }
        var exit: ExitCode?
        for result in results {
            switch result {
            case .success(let progress):
                printError("pipeline \(progress.pipeline): \(progress.messages) events in \(progress.batches) batches: "
                    + outcomeSummary(progress.counters))
            case .failure(let error):
                let code = failure(error)
                if let hint = hint(for: error, plans: plans) { printError(hint) }
                if exit == nil || error.code == .eventFailed { exit = code }
            }
        }
        if let exit { throw exit }
    }

    /// The next step after a refused definition, as a command built from this run's arguments.
    private func hint(for error: ProjectorError, plans: [Plan]) -> String? {
        guard let index = plans.firstIndex(where: { $0.name == error.pipeline }) else { return nil }
        let file = pipelines[index]
        let connection = ["--brokers", kafka.brokers, "--db", db] + database.arguments + kafka.librdkafka.properties.flatMap { ["-X", $0] }
        switch error.code {
        case .definitionChanged:
            return "hint: to rebuild the views with this definition: "
                + shellCommand([CommandLine.arguments[0], "rebuild", file] + connection)
                + "\n      (or run the definition that built them)"
        case .superseded:
            // The rebuilt definition is usually this same file, edited: check before naming it.
            if let current = try? Pipeline.load(path: file), current.hash != plans[index].pipeline.hash {
                return "hint: \(file) now holds another definition (version \(current.version)); start it: "
                    + shellCommand([CommandLine.arguments[0], "run", file] + connection)
            }
            return "hint: start the definition that rebuilt the views (\(file) still holds this worker's); "
                + "its version and hash: " + shellCommand([CommandLine.arguments[0], "status", "--db", db] + database.arguments)
        case .database:
            // The batch in flight rolled back with its checkpoints: the same command goes on from them.
            return "hint: nothing of the failed batch was stored; to resume from the stored checkpoints: "
                + shellCommand(CommandLine.arguments)
        default:
            return nil
        }
    }
}
