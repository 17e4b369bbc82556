import ArgumentParser
import Foundation
import Pipelines
import Projector
import ProjectorTools

/// `projector status`: checkpoints per pipeline, and lag with brokers.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each pipeline's identity and checkpoints, and its lag when --brokers is given.",
        discussion: """
        --json prints {"pipelines":[{"name","version","hash","dead_letters","unpublished_dead_letters","counters",\
        "ignored_types","checkpoints":[{"topic","partition","next_offset","high_watermark","lag","status"}]}]} (the last three \
        only with --brokers). unpublished_dead_letters counts letters not yet on the dead-letter topic; \
        counters maps each event outcome (applied, filtered, deduplicated, ignored_type, skipped, \
        dead_lettered, parked) to its count, and ignored_types the ignored_type events by type name.

        status is Burrow's partition status judged from successive samples: ok, idle (caught up, \
        nothing new for --stall-after), warn (lag grew over the window), stall (records waiting, the \
        checkpoint still for --stall-after), rewind (the checkpoint went backwards). A single sample is \
        ok; --watch samples every --interval seconds and redraws (one table per sample without a terminal) \
        until SIGINT or SIGTERM (exit 0).

        Examples:
          projector status --db views.sqlite
          projector status --db views.sqlite --brokers 127.0.0.1:9092 --json
          projector status --db views.sqlite --brokers 127.0.0.1:9092 --watch --stall-after 60
        """)

    @Option(help: "The views: an SQLite file, or a postgres://user@host:port/db URL.")
    var db: String

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Bootstrap servers; with them, the high watermark and lag of every partition.")
    var brokers: String?

    @OptionGroup var librdkafka: LibrdkafkaPropertyOptions

    @Flag(help: "Print JSON (a stable, documented shape).")
    var json = false

    @Flag(help: "Sample again every --interval seconds and redraw until interrupted (needs --brokers).")
    var watch = false

    @Option(help: ArgumentHelp("Seconds between two samples with --watch.", valueName: "seconds"))
    var interval: Double = 2

    @Option(help: ArgumentHelp("The window of the partition status rules.", valueName: "seconds"))
    var stallAfter: Double = 30

    @Argument(help: "Only these pipelines (names stored in the db, or pipeline files).")
    var pipelines: [String] = []

    func validate() throws {
        if watch && brokers == nil { throw ValidationError("--watch needs --brokers: it follows lag and partition status.") }
        guard interval > 0, interval <= 86_400 else { throw ValidationError("--interval must be more than 0 and at most 86400 seconds.") }
        guard stallAfter > 0, stallAfter <= 86_400 else { throw ValidationError("--stall-after must be more than 0 and at most 86400 seconds.") }
    }

    func run() throws {
        let store = try openStore(db, database: database, readOnly: true)
        let properties = try librdkafka.properties(command: "status")
        var judge = PartitionStatusJudge(window: .milliseconds(Int64(stallAfter * 1000)))
        let isTerminal = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["CI"] != "true"
        let signal = ShutdownSignal()
        let sources = watch ? stopOnSignals(signal) : nil
        defer { withExtendedLifetime(sources) {} }
        while !signal.isTriggered {
            var report: StatusReport
            do {
                report = try StatusReport.make(store: store, brokers: brokers, properties: properties)
            } catch {
                throw failure(error)
            }
            report.judge(with: &judge)
            if watch && isTerminal { print("\u{1B}[H\u{1B}[2J", terminator: "") }
            try show(report)
            guard watch else { return }
            fflush(nil)
            let next = Date(timeIntervalSinceNow: interval)
            while !signal.isTriggered && Date() < next { Thread.sleep(forTimeInterval: min(0.05, interval)) }
        }
    }

    private func show(_ report: StatusReport) throws {
        var report = report
        if !pipelines.isEmpty {
            let names = Set(pipelines.map(pipelineName(_:)))
            report.pipelines.removeAll { !names.contains($0.name) }
        }
        for topic in report.missingTopics where report.pipelines.contains(where: { $0.checkpoints.contains { $0.topic == topic } }) {
            printError("status: topic \(topic) does not exist at \(brokers ?? ""): no high watermark or lag for its partitions")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        if report.pipelines.isEmpty { print("no pipelines in \(db)") }
        for pipeline in report.pipelines {
            print("\(pipeline.name) v\(pipeline.version) (\(pipeline.hash.prefix(12)))")
            if pipeline.deadLetters > 0 {
                let unpublished = pipeline.unpublishedDeadLetters > 0
                    ? ", \(pipeline.unpublishedDeadLetters) not yet on the dead-letter topic" : ""
                print("dead letters: \(pipeline.deadLetters)\(unpublished)")
            }
            if let records = pipeline.outboxRecords {
                let age = pipeline.oldestUnsentAgeSeconds.map { String(format: " (oldest %.1f s)", $0) } ?? ""
                print("outbox: \(records) emitted record\(records == 1 ? "" : "s") not yet produced\(age)")
            }
            if let timers = pipeline.pendingTimers { print("timers: \(timers) pending") }
            let counters = EventOutcome.allCases.map { "\($0.rawValue) \(pipeline.counters[$0.rawValue] ?? 0)" }
            print("events: " + counters.joined(separator: ", "))
            if !pipeline.ignoredTypes.isEmpty {
                let types = pipeline.ignoredTypes.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
                print("ignored types: " + types.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
            let rows = pipeline.checkpoints.map { checkpoint in
                [checkpoint.topic, String(checkpoint.partition), String(checkpoint.nextOffset),
                 checkpoint.highWatermark.map(String.init) ?? "-", checkpoint.lag.map(String.init) ?? "-",
                 checkpoint.status?.rawValue ?? "-"]
            }
            print(TextTable(columns: ["topic", "partition", "next_offset", "high_watermark", "lag", "status"], rows: rows).rendered)
        }
    }
}

/// A pipeline name from a name or a pipeline file path (the file's `name:`; else its base name).
func pipelineName(_ argument: String) -> String {
    guard argument.hasSuffix(".yaml") || argument.hasSuffix(".yml") || argument.contains("/") else { return argument }
    return (try? Pipeline.load(path: argument))?.name ?? argument
}
