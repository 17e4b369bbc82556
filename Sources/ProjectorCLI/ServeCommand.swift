import ArgumentParser
import Foundation
import Logging
import Projector
import PostgresViews
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
          projector serve --db views.sqlite --http 127.0.0.1:8080 --http-token-file token.txt
          curl -s http://127.0.0.1:9464/views
        """
    )

    @Option(help: "The view store to read.")
    var db: String

    @Option(help: ArgumentHelp("The address to listen on (port 0 picks one).", valueName: "host:port"))
    var http: String = "127.0.0.1:9464"

    @OptionGroup var read: ReadAPIOptions

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if PostgresLocation.isPostgresURL(db) {
            throw ValidationError("serve reads SQLite stores; on PostgreSQL the views are tables: query them with psql or any SQL client.")
        }
        if OperationsOptions.split(http) == nil { throw ValidationError("--http expects host:port, e.g. 127.0.0.1:9464; got '\(http)'.") }
    }

    func run() throws {
        let signal = ShutdownSignal()
        let sources = stopOnSignals(signal)
        var operations = try OperationsOptions.parse(["--http", http])
        operations.read = read
        let service = try operations.start(metrics: operations.makeMetrics(), db: db, database: nil)
        while !signal.isTriggered {
            Thread.sleep(forTimeInterval: 0.1)
        }
        service?.stop()
        withExtendedLifetime(sources) {}
    }
}
