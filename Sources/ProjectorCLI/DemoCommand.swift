import ArgumentParser
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
        pipelines/ into one SQLite file, and prints a few rows of each view.

        Examples:
          projector demo
          projector demo --events 1000000 --partitions 24 --db /tmp/demo.sqlite
        """)

    @Option(help: "The folder with the pipeline files and samples/.")
    var pipelines = "pipelines"

    @Option(help: "The SQLite file for the views (replaced).")
    var db = "demo.sqlite"

    @Option(help: "How many generated events follow the samples.")
    var events = 100_000

    @Option(help: "Partitions per topic (the mock keeps ~5 MiB per partition: add partitions for big runs).")
    var partitions = 6

    func validate() throws {
        guard events >= 0 else { throw ValidationError("--events must be 0 or more.") }
        guard partitions > 0 else { throw ValidationError("--partitions must be at least 1.") }
    }

    func run() throws {
        let demo = Demo(options: .init(pipelinesDirectory: pipelines, databasePath: db,
                                       generatedEvents: events, partitions: partitions))
        do {
            try demo.run { print($0) }
        } catch {
            throw failure(error)
        }
        print("""

            The views are in \(db); try:
              \(shellCommand(["sqlite3", db, "SELECT * FROM order_summary LIMIT 10"]))
              \(shellCommand([CommandLine.arguments[0], "status", "--db", db]))
            """)
    }
}
