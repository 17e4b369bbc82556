import ArgumentParser
import Foundation
import KafkaClient
import Pipelines
import PostgresViews
import Projector
import ProjectorHTTP
import ProjectorTools
import Views

/// `projector bench`: throughput of Projector's consumer (and optionally a pipeline) on a cluster.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure produce, consume and pipeline throughput on a Kafka cluster.",
        discussion: """
        Produces N synthetic JSON events (OrderCreated envelopes of --size bytes) to --topic, or with \
        --existing reads what the topic already holds; consumes the whole topic with Projector's batch \
        consumer (manual assignment from the earliest offsets, no consumer group); and with --pipeline \
        projects it through that pipeline into a temporary SQLite file, as `projector run` does (the \
        topic is fed as the pipeline's first source topic). Each phase prints msg/s, MB/s, p50/p99 \
        batch latency, CPU per message (getrusage: every thread of the process) and peak RSS.

        Without --brokers an embedded broker (librdkafka's mock cluster) is started; it keeps about \
        5 MiB per partition, so --partitions defaults to enough partitions for N events.

        With --brokers, bench creates a missing topic with CreateTopics (--partitions, default 6; \
        replication factor 3, or the number of brokers when fewer) and says so; looking at a topic \
        never creates it. A topic that exists with another partition count than --partitions is an \
        error (exit 2) unless --existing reads it as it is. A cluster that cannot create topics \
        (`projector dev-broker`) fails with the command that starts one having the topic.

        With --db postgres://…, the pipeline phase writes into that PostgreSQL server instead, in a \
        new schema (projector_bench_<random>) that is dropped at the end. With --existing-views, the \
        pipeline phase measures views that already hold every row: the topic is projected once \
        untimed, the checkpoints are set back to its start, and the second pass is timed.

        Progress goes to stderr on a terminal only (not with CI=true).

        Exit codes: 0 ok, 1 broker or database failure, 2 bad usage.

        Examples:
          projector bench --messages 200000
          projector bench --brokers kafka:9092 --topic bench --messages 1000000 --partitions 12
          projector bench --brokers kafka:9092 --topic orders --existing --pipeline pipelines/order_summary.yaml
          projector bench --messages 100000 --pipeline pipelines/order_summary.yaml --db postgres://projector@db:5432/views
          projector bench --messages 100000 --pipeline pipelines/order_summary.yaml --existing-views
        """)

    @Option(help: ArgumentHelp("Bootstrap brokers, host:port[,host:port...]; default: start an embedded broker.", valueName: "host:port"))
    var brokers: String?

    @OptionGroup var librdkafka: LibrdkafkaPropertyOptions

    @Option(help: "The topic to produce to and read from.")
    var topic = "projector-bench"

    @Option(help: "How many events to produce (ignored with --existing).")
    var messages = 100_000

    @Option(help: ArgumentHelp("The value size of the synthetic events, in bytes.", valueName: "bytes"))
    var size = 220

    @Option(help: "Partitions of the topic when bench creates it (default: 6, or enough for N events on the embedded broker); an existing topic must have as many, unless --existing.")
    var partitions: Int?

    @Flag(help: "Read the events the topic already holds instead of producing new ones.")
    var existing = false

    @Option(help: ArgumentHelp("Also project the topic through this pipeline into a temporary SQLite file.", valueName: "file"))
    var pipeline: String?

    @Option(help: ArgumentHelp(
        "With --pipeline: a postgres://user@host:port/db URL to project into (a new schema, dropped at the end) "
            + "instead of a temporary SQLite file.", valueName: "url"))
    var db: String?

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "With --pipeline: project the topic once untimed, set the checkpoints back to its start, and measure a second pass into views that already hold every row it writes (a read model catching up), instead of a pass into empty views.")
    var existingViews = false

    @Option(help: .hidden)
    var events = Bench.Events.synthetic.rawValue

    @Option(help: .hidden)
    var passes = 1

    @Option(help: .hidden)
    var fillMilliseconds = 0

    @Flag(help: "Skip the consume phase (with --pipeline: measure only the pipeline).")
    var skipConsume = false

    @Flag(help: "Print one JSON object per phase on stdout instead of the summary lines.")
    var json = false

    @Option(help: ArgumentHelp("With --pipeline: serve /metrics, /healthz and /readyz on host:port as `run --http` does, "
                               + "and scrape /metrics every --scrape-interval seconds while the pipeline runs.", valueName: "host:port"))
    var http: String?

    @Option(help: ArgumentHelp("With --http: seconds between scrapes of /metrics.", valueName: "seconds"))
    var scrapeInterval: Double = 1

    func validate() throws {
        guard messages > 0 || existing else { throw ValidationError("--messages must be at least 1.") }
        guard size > 0 else { throw ValidationError("--size must be at least 1.") }
        if let partitions, partitions < 1 { throw ValidationError("--partitions must be at least 1.") }
        guard passes > 0 else { throw ValidationError("--passes must be at least 1.") }
        if existing && brokers == nil { throw ValidationError("--existing needs --brokers: the embedded broker starts empty.") }
        if topic.isEmpty { throw ValidationError("--topic must not be empty.") }
        if existingViews && pipeline == nil { throw ValidationError("--existing-views measures the pipeline phase: give --pipeline too.") }
        if http != nil && pipeline == nil { throw ValidationError("--http measures the pipeline phase: give --pipeline too.") }
        if let http, !http.contains(":") { throw ValidationError("--http expects host:port, e.g. 127.0.0.1:0; got '\(http)'.") }
        guard scrapeInterval > 0, scrapeInterval <= 3_600 else { throw ValidationError("--scrape-interval must be more than 0 and at most 3600 seconds.") }
        if let db {
            if pipeline == nil { throw ValidationError("--db is where the pipeline phase writes: give --pipeline too.") }
            if !PostgresLocation.isPostgresURL(db) {
                throw ValidationError("--db must be a postgres:// URL; without it the pipeline goes to a temporary SQLite file.")
            }
            if database.schema != "public" {
                throw ValidationError("bench projects into a new schema of its own, dropped at the end: leave out --db-schema.")
            }
        }
        if Bench.Events(rawValue: events) == nil {
            throw ValidationError("--events must be one of \(Bench.Events.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
    }

    func run() throws {
        let properties = try librdkafka.properties(command: "bench")
        let plan = try pipeline.map { try loadPlans([$0])[0] }
        do {
            try measure(properties: properties, plan: plan)
        } catch let error as ProjectorError {
            throw failure(error)
        } catch let error as KafkaError {
            throw failure(ProjectorError(code: .broker, message: "bench: \(error.message)"))
        }
    }

    /// On a cluster given with --brokers: creates a missing topic with --partitions (with --existing,
    /// a missing topic is an error), or checks an existing one against --partitions (exit 2 on a
    /// mismatch, unless --existing reads it as it is).
    private func prepareTopic(brokers: String, properties: [String: String], partitions count: Int) throws(ProjectorError) {
        let administration = TopicAdministration(brokers: brokers, properties: properties)
        let lookup: Int?
        do {
            lookup = try administration.partitionCount(of: topic)
        } catch {
            throw ProjectorError(code: error.code, message: "bench: \(error.message)")
        }
        guard let found = lookup else {
            guard !existing else {
                throw ProjectorError(
                    code: .broker,
                    message: "bench: topic \(topic) does not exist at \(brokers). To create it and produce into it: "
                        + shellCommand(CommandLine.arguments.filter { $0 != "--existing" }))
            }
            let replicas: Int
            do {
                replicas = try administration.create(topic, partitions: count)
            } catch {
                throw ProjectorError(code: error.code, message: "bench: \(error.message)")
            }
            printError("bench: created topic \(topic) with \(count) partition(s), replication factor \(replicas)")
            return
        }
        guard let partitions, partitions != found else { return }
        if existing {
            printError("bench: topic \(topic) has \(found) partition(s), not the \(partitions) of --partitions; reading it as it is")
            return
        }
        throw ProjectorError(
            code: .usage,
            message: "bench: topic \(topic) exists with \(found) partition(s), not the \(partitions) of --partitions; nothing was produced. "
                + "Choose another --topic, or read it as it is: \(commandLine(adding: ["--existing"]))")
    }

    /// The partitions for the topic: given, or enough for N events of --size on the embedded broker.
    static func defaultPartitions(messages: Int, size: Int, embedded: Bool) -> Int {
        guard embedded else { return 6 }
        // The mock keeps ~5 MiB per partition; plan for 3 MiB of values plus record overhead.
        let bytes = messages * (size + 40)
        return min(max(6, (bytes + 3_145_727) / 3_145_728), 512)
    }

    private func measure(properties: [String: String], plan: Plan?) throws {
        var cluster: MockCluster?
        let address: String
        let count = partitions ?? Self.defaultPartitions(messages: messages, size: size, embedded: brokers == nil)
        if let brokers {
            address = brokers
        } else {
            let mock = try MockCluster(brokerCount: 3)
            try mock.createTopic(topic, partitions: count)
            cluster = mock
            address = mock.bootstrapServers
        }
        var options = Bench.Options(
            brokers: address, topic: topic, messages: messages, size: size, events: Bench.Events(rawValue: events) ?? .synthetic, properties: properties,
            passes: passes, requiresCompleteTopic: cluster != nil)
        options.fillTimeout = .milliseconds(fillMilliseconds)
        options.existingViews = existingViews
        let bench = Bench(options: options)
        if cluster == nil { try prepareTopic(brokers: address, properties: properties, partitions: count) }
        var results: [BenchMeasurement] = []
        if !existing {
            results.append(try bench.produce())
            report(results.last!)
        }
        let extent = try bench.topicExtent()
        if cluster != nil && extent.truncatedPartitions > 0 {
            throw ProjectorError(code: .usage, message: "bench: the embedded broker dropped the oldest records of \(extent.truncatedPartitions) partition(s): it keeps ~5 MiB per partition. Use more --partitions.")
        }
        if !json {
            print("topic \(topic): \(extent.messages) events in \(extent.partitions) partitions"
                + (cluster != nil ? " (embedded broker)" : " at \(address)"))
        }
        guard extent.messages > 0 else {
            throw ProjectorError(code: .broker, message: "bench: topic \(topic) is empty")
        }
        if !skipConsume {
            results.append(try bench.consume())
            report(results.last!)
        }
        if let plan {
            results.append(try projectServed(plan, options: options))
            report(results.last!)
        }
        withExtendedLifetime(cluster) {}
    }

    /// The pipeline phase into a new store (a temporary SQLite file, or a new schema with --db),
    /// removed afterwards.
    private func projectServed(_ plan: Plan, options: Bench.Options) throws -> BenchMeasurement {
        guard let db, var location = try database.postgresLocation(db) else {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("projector-bench-\(UUID().uuidString).sqlite").path
            defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
            let store: any ViewStore
            do {
                store = try SQLiteViewStore(path: path)
            } catch {
                throw failure(ProjectorError(code: .database, message: "bench: \(error)"))
            }
            return try projectServed(plan, options: options, into: store)
        }
        location.schema = "projector_bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        let store: PostgresViewStore
        do {
            store = try PostgresViewStore(location: location)
        } catch {
            throw failure(ProjectorError(code: .database, message: "bench: \(error)"))
        }
        defer {
            do { try store.dropSchema() } catch { printError("bench: \(error)") }
        }
        return try projectServed(plan, options: options, into: store)
    }

    /// The pipeline phase; with --http, with the operations server up and scraped as Prometheus would.
    private func projectServed(_ plan: Plan, options: Bench.Options, into store: any ViewStore) throws -> BenchMeasurement {
        guard http != nil else { return try Bench(options: options).project(plan, into: store) }
        var served = options
        if served.properties["statistics.interval.ms"] == nil { served.properties["statistics.interval.ms"] = "10000" }
        let operations = try OperationsOptions.parse(["--http", http!])
        let metrics = operations.makeMetrics()
        served.metrics = metrics
        guard let (server, port) = try operations.serve(metrics: metrics, db: nil, database: nil) else { return try Bench(options: options).project(plan, into: store) }
        let scraper = MetricsScraper(port: port, interval: .milliseconds(Int64(scrapeInterval * 1000)))
        let measurement = try Bench(options: served).project(plan, into: store)
        let scrapes = scraper.stop()
        server.stop()
        printError("bench: --http: \(scrapes.ok) scrape(s) of http://127.0.0.1:\(port)/metrics answered 200"
            + (scrapes.failed > 0 ? ", \(scrapes.failed) failed (last: \(scrapes.lastFailure ?? ""))" : ""))
        if scrapes.failed > 0 { throw ExitCode(ExitStatus.runtime) }
        return measurement
    }

    private func report(_ measurement: BenchMeasurement) {
        print(json ? measurement.json : measurement.summary)
        fflush(nil)  // one line per phase, visible at once when stdout is a pipe
    }
}
