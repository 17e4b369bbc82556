import ArgumentParser
import Foundation
import Logging
import Pipelines
import Projector
import ProjectorHTTP

/// `projector serve`: the read API (and /metrics, /healthz, /readyz) over a store, read-only, in
/// a process of its own beside the workers that write it.
struct ServeCommand: ParsableCommand, ConfiguresLogging {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the views of a store over HTTP, read-only (GET /views, /views/{view}/rows).",
        discussion: """
        Opens the store read-only and answers the read API described by GET /openapi.yaml until SIGINT or SIGTERM. Listens on loopback by default; give --http 0.0.0.0:PORT to listen on every interface, and --http-token-file to require a bearer token. Workers (projector run) keep writing the store; every answer carries the view's Projector-Position.

        Examples:
          projector serve --db views.sqlite
          projector serve --db views.sqlite --pipeline pipelines/inventory.yaml
          projector serve --db views.sqlite --http 127.0.0.1:8080 --http-token-file token.txt
          projector serve --db postgres://projector@db:5432/views --db-schema shop --db-password-file pw.txt
          curl -s http://127.0.0.1:9464/views
        """
    )

    @Option(help: "The view store to read: an SQLite file, or postgres://… (see --db-schema).")
    var db: String

    @OptionGroup var database: DatabaseOptions

    @Option(name: .customLong("pipeline"), help: ArgumentHelp(
        "A pipeline file the workers run (repeatable): its source topics are the partitions a read waits for, and a "
            + "single-key read of a view keyed by the message key waits only for the key's partition.",
        valueName: "file"))
    var pipelines: [String] = []

    @Option(help: ArgumentHelp("The address to listen on (port 0 picks one).", valueName: "host:port"))
    var http: String = "127.0.0.1:9464"

    @OptionGroup var read: ReadAPIOptions

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if OperationsOptions.split(http) == nil { throw ValidationError("--http expects host:port, e.g. 127.0.0.1:9464; got '\(http)'.") }
    }

    func run() throws {
        let signal = ShutdownSignal()
        let sources = stopOnSignals(signal)
        var operations = try OperationsOptions.parse(["--http", http])
        operations.read = read
        let plans = try loadPlans(pipelines)
        let topics = Dictionary(plans.map { ($0.name, Set($0.pipeline.topics)) }) { $0.union($1) }
        let service = try operations.start(metrics: operations.makeMetrics(), db: db, database: database, topics: topics,
                                           messageKeyed: Set(plans.flatMap(\.pipeline.messageKeyedViews)))
        while !signal.isTriggered {
            Thread.sleep(forTimeInterval: 0.1)
        }
        service?.stop()
        withExtendedLifetime(sources) {}
    }
}
