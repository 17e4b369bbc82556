import ArgumentParser
import Foundation
import PostgresViews
import Projector
import ProjectorTools

/// `projector demo`: everything in one command, on the embedded broker.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run every example pipeline on the embedded broker and show the views.",
        discussion: """
        Starts librdkafka's mock cluster on loopback, produces the sample events of \
        pipelines/samples/ and a generated stream of e-commerce events, runs every pipeline of \
        pipelines/ into one SQLite file, and prints a few rows of each view. With --db postgres://… \
        the views go to that PostgreSQL server instead, in the schema --db-schema names (default \
        projector_demo, never public), which the demo drops and creates again.

        With --brokers it is a feed for a real cluster instead: it produces --events generated events \
        (--rate per second; SIGINT/SIGTERM stop it) to the topics inventory, orders and payments, which \
        must exist, and runs no pipeline: workers elsewhere (docker/compose.yaml's) project them.

        Examples:
          projector demo
          projector demo --events 1000000 --partitions 24 --db /tmp/demo.sqlite
          projector demo --db postgres://projector@db:5432/views --db-schema demo
          projector demo --brokers kafka:9092 --events 10000000 --rate 500
        """)

    @Option(help: "The folder with the pipeline files and samples/.")
    var pipelines = "pipelines"

    @Option(help: "The SQLite file for the views (replaced), or a postgres:// URL (see above).")
    var db = "demo.sqlite"

    @OptionGroup var database: DatabaseOptions

    @Option(help: "How many generated events follow the samples.")
    var events = 100_000

    @Option(help: "Partitions per topic (the mock keeps ~5 MiB per partition: add partitions for big runs).")
    var partitions = 6

    @Option(help: ArgumentHelp("Produce the generated events to this cluster, and nothing else (see above).", valueName: "host:port"))
    var brokers: String?

    @Option(help: ArgumentHelp("With --brokers: events per second (default: as fast as the cluster takes them).", valueName: "events"))
    var rate: Int?

    func validate() throws {
        guard events >= 0 else { throw ValidationError("--events must be 0 or more.") }
        guard partitions > 0 else { throw ValidationError("--partitions must be at least 1.") }
        if let rate {
            guard brokers != nil else { throw ValidationError("--rate is only for --brokers: the embedded demo produces as fast as it can.") }
            guard rate > 0 else { throw ValidationError("--rate must be at least 1 event per second.") }
        }
    }

    func run() throws {
        if let brokers { return try feed(brokers) }
        let options = Demo.Options(pipelinesDirectory: pipelines, databasePath: db, generatedEvents: events, partitions: partitions)
        if var location = try database.postgresLocation(db) {
            if location.schema == "public" { location.schema = "projector_demo" }
            return try runOnPostgres(options, location)
        }
        do {
            try Demo(options: options).run { print($0) }
        } catch {
            throw failure(error)
        }
        print("""

            The views are in \(db); try:
              \(shellCommand(["sqlite3", db, "SELECT * FROM order_summary LIMIT 10"]))
              \(shellCommand([CommandLine.arguments[0], "status", "--db", db]))
            """)
    }

    /// The demo into a PostgreSQL schema, dropped and created again first (as the SQLite file is replaced).
    private func runOnPostgres(_ base: Demo.Options, _ location: PostgresLocation) throws {
        var options = base
        options.databasePath = location.description
        options.openStore = { readOnly in try PostgresViewStore(location: location, configuration: .init(isReadOnly: readOnly)) }
        do {
            try PostgresViewStore(location: location).dropSchema()
            try Demo(options: options).run { print($0) }
        } catch let error as ProjectorError {
            throw failure(error)
        } catch {
            throw failure(ProjectorError(code: .database, message: "demo: \(error)"))
        }
        var url = URLComponents(string: db)
        url?.password = nil
        print("""

            The views are in schema \(location.schema) of \(location); try:
              \(shellCommand(["psql", url?.string ?? db, "-c", "SELECT * FROM \(location.schema).order_summary LIMIT 10"]))
              \(shellCommand([CommandLine.arguments[0], "status", "--db", db, "--db-schema", location.schema]
                    + (database.passwordFile.map { ["--db-password-file", $0] } ?? [])))
            """)
    }

    /// `--brokers`: the generated stream to a real cluster whose topics exist.
    private func feed(_ brokers: String) throws {
        try reportingFailures {
            let administration = TopicAdministration(brokers: brokers, properties: [:])
            for topic in DemoFeed.topics {
                let found: Int?
                do {
                    found = try administration.partitionCount(of: topic)
                } catch {
                    throw CommandFailure.runtime("demo", "nothing was sent: \(error)")
                }
                guard found == nil else { continue }
                throw CommandFailure.runtime("demo", "topic \(topic) does not exist at \(brokers); nothing was sent. To create it: "
                    + shellCommand([CommandLine.arguments[0], "produce", "--brokers", brokers, "--topic", topic,
                                    "--create-topic", "--partitions", "\(partitions)", "/dev/null"]))
            }
            let signal = ShutdownSignal()
            let sources = stopOnSignals(signal)
            defer { withExtendedLifetime(sources) {} }
            let progress = ProgressLine()
            let feed = DemoFeed(brokers: brokers, events: events, rate: rate)
            let delivered: [String: Int]
            do {
                delivered = try feed.run(until: signal) { progress.update("demo feed: \($0)/\(events) events produced") }
            } catch {
                progress.finish()
                throw CommandFailure.runtime("demo", describeFailure(error))
            }
            progress.finish()
            printError("demo feed: produced " + delivered.sorted { $0.key < $1.key }.map { "\($0.value) to \($0.key)" }.joined(separator: ", "))
        }
    }
}
