import ArgumentParser
import Foundation
import Pipelines
import Projector
import ProjectorTools
import ProjectorHTTP
import Views
import ProjectorModel

/// `projector rebuild`: recompute a pipeline's views from the earliest offsets, then swap them in.
struct RebuildCommand: ParsableCommand, ConfiguresLogging {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Recompute a pipeline's views from the earliest offsets into shadow tables, then swap them in.",
        discussion: """
        The rebuild reads every source partition from the earliest offset with its own consumer \
        (manual assignment, no consumer group: running workers keep their partitions) and writes \
        shadow tables in the same database; the live views stay readable and a running worker keeps \
        writing them. It then catches up to the live checkpoints and swaps shadow and live tables and \
        their checkpoints in ONE transaction: readers see the old views or the new ones, never a mix, \
        and a running worker continues from the swapped checkpoints without a restart. A pipeline \
        without live checkpoints is read up to the high watermarks.

        A changed definition (new version or hash) goes live this way: `run` refuses it until the \
        rebuild swaps it in. A worker still running the old definition stops at its next batch with an \
        error saying the views were rebuilt by another definition; then start the new one.

        --until builds the views as of a past moment into another database (--into, never swapped over \
        the live views): an ISO-8601 time (events whose Kafka timestamp is at or before it; offsets for \
        times where the brokers support it, else each partition stops at its first later message), or \
        topic:partition:offset,... (events before those offsets, like checkpoints; list every source \
        partition).

        --http host:port serves GET /metrics with projector_rebuild_events, projector_rebuild_target_events \
        and projector_rebuild_eta_seconds while it runs.

        The rebuild folds the log in memory (--memory, default 512MiB) and writes each touched row \
        once per window with the window's checkpoints in one transaction: a rebuild \
        killed in a window redoes only that window (the first window is a sixteenth of its part, \
        each next one twice the last). --memory is split into parts that add up to it: a quarter, up \
        to 64MiB, for the records fetched ahead, librdkafka's ~860 bytes of bookkeeping per record \
        included (its queue is bounded in records as well as bytes, and the rebuild wakes its \
        fetchers as it reads the queue down); a quarter, up to 80MiB, for the SQLite page cache and \
        the keys known to exist in the new tables (four fifths and one fifth); the window gets the \
        rest, at least half the budget. 512MiB: 64MiB fetched ahead, 64MiB cache, 16MiB keys, \
        368MiB window; 64MiB: 16, 12.8, 3.2 and 32MiB. None of these grows with the log; each is a \
        ceiling, so a log whose rows do not fill the window or whose tables fit the cache peaks \
        lower. The process itself (code, threads, ~40MiB) is not counted.

        SIGINT/SIGTERM finish the batch and stop (exit 1); the live views are untouched and running \
        the rebuild again resumes from the shadow's checkpoints (--restart starts over; so does \
        --until with a time, since the shadow does not tell which time it was built to).

        Progress (per partition and in total, events/s, ETA) goes to stderr: one line rewritten on a \
        terminal, a line every ~10 s otherwise, nothing with CI=true; --progress-interval SECONDS prints \
        a line that often in every case. The ETA fits the pace (seconds per event) as it changed over \
        the run so far, so a rebuild that slows down as the log's offsets or the tables grow is \
        estimated as such, not at its average rate.

        Exit codes: 0 done, 1 broker or database failure or stopped, 2 bad usage or invalid pipeline, \
        3 an event error under on_error: fail.

        Examples:
          projector rebuild pipelines/order_summary.yaml --brokers 127.0.0.1:9092 --db views.sqlite
          projector rebuild pipelines/order_summary.yaml --brokers 127.0.0.1:9092 --db views.sqlite --no-swap
          projector rebuild pipelines/order_summary.yaml --brokers 127.0.0.1:9092 \\
              --until 2026-11-01T00:00:00Z --into orders-nov1.sqlite
          projector rebuild pipelines/order_summary.yaml --brokers 127.0.0.1:9092 \\
              --until orders:0:1200,orders:1:1187,orders:2:1203 --into orders-at.sqlite
        """)

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "The live views: an SQLite file or a postgres:// URL (not needed with --until).")
    var db: String?

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Build the views as of an ISO-8601 time or topic:partition:offset,... (needs --into).",
                               valueName: "time|offsets"))
    var until: String?

    @Option(help: ArgumentHelp("With --until: the SQLite file to write the views to.", valueName: "path"))
    var into: String?

    @Flag(inversion: .prefixedNo, help: "Swap the rebuilt views in when done; --no-swap leaves the finished shadow for inspection (a later rebuild resumes and swaps).")
    var swap = true

    @Flag(help: "Drop the shadow of an interrupted rebuild and start over from the earliest offsets.")
    var restart = false

    @Option(help: ArgumentHelp("The memory for records fetched ahead, the SQLite cache, the known keys and rows folded between writes of the shadow tables, e.g. 512MiB or 1GiB (default 512MiB).",
                               valueName: "size"))
    var memory: String?

    @Option(help: "The most messages read and evaluated at a time (the rows of many batches share a window).")
    var batchSize = 10_000

    @Option(help: ArgumentHelp("Print the progress line to stderr every this many seconds, on a terminal or not, even with CI=true (for a script that records it).",
                               valueName: "seconds"))
    var progressInterval: Double?

    @OptionGroup var operations: OperationsOptions

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be at least 1.") }
        if let progressInterval, !(progressInterval > 0 && progressInterval <= 86_400) {
            throw ValidationError("--progress-interval must be a number of seconds above 0, e.g. 1 or 0.5.")
        }
        if until != nil && into == nil {
            throw ValidationError("--until needs --into OTHER.db: a view as of a past moment never replaces the live views.")
        }
        if into != nil && until == nil {
            throw ValidationError("--into is only for --until; without --until the rebuild replaces the views in --db.")
        }
        if until == nil && db == nil {
            throw ValidationError("--db is required: the SQLite file or postgres:// URL of the views to rebuild.")
        }
        if let into, let db, URL(fileURLWithPath: into).standardized == URL(fileURLWithPath: db).standardized {
            throw ValidationError("--into must be another file than --db: --until never writes over the live views.")
        }
    }

    func run() throws {
        let plan = try loadPlans([pipeline])[0]
        let properties = try kafka.librdkafka.properties(command: "rebuild")
        var position: UntilPosition?
        if let until {
            do { position = try UntilPosition(parsing: until) } catch { throw failure(error) }
        }
        var budget = RebuildOptions.defaultMemoryBudget
        if let memory {
            do { budget = try MemorySize.bytes(parsing: memory) } catch { throw failure(error) }
        }
        let path = into ?? db!
        let parts = RebuildOptions(brokers: kafka.brokers, memoryBudget: budget)
        let store = try openStore(path, database: database, sqliteCacheKiB: parts.cacheBytes >> 10)
        let metrics = operations.makeMetrics()
        let server = try operations.start(metrics: metrics, db: path, database: database, topics: [plan.name: Set(plan.pipeline.topics)],
                                               messageKeyed: plan.pipeline.messageKeyedViews)
        defer { server?.stop() }
        let summary = try runRebuild(plan, store: store, options: RebuildOptions(
            brokers: kafka.brokers, properties: properties, until: position, swaps: swap, restarts: restart,
            maxBatchMessages: batchSize, memoryBudget: budget), metrics: metrics,
            progress: progressInterval.map { .periodic(.milliseconds(Int64($0 * 1000))) })
        let seconds = Double(summary.elapsed.components.seconds) + Double(summary.elapsed.components.attoseconds) / 1e18
        let rate = Int(Double(summary.events) / max(seconds, 0.001))
        let resumed = summary.wasResumed ? " (resumed)" : ""
        let windows = summary.windowsWritten > 1
            ? ", \(summary.windowsWritten) windows written (\(summary.windowsWrittenWhileReading) while reading on)" : ""
        let read = "\(summary.events) events in \(Self.tenths(seconds)) s, \(rate) events/s\(windows)\(resumed)"
        if summary.events == 0, case .time(let milliseconds)? = position, summary.outcome != .stopped {
            explainEmptyTimeRange(milliseconds, plan: plan, properties: properties)
        }
        switch summary.outcome {
        case .swapped:
            printError("rebuild \(plan.name): \(read); swapped into \(path) at "
                + summary.checkpoints.map { "\($0.topic):\($0.partition):\($0.nextOffset)" }.joined(separator: ","))
        case .leftInShadow:
            printError("rebuild \(plan.name): \(read); the rebuilt views are in the shadow tables _projector_shadow_<view> of \(path) "
                + "(rebuild again without --no-swap to swap them in)")
        case .stopped:
            printError("rebuild \(plan.name): stopped after \(read); the live views are untouched; run it again to resume "
                + "(or with --restart to start over)")
            throw ExitCode(ExitStatus.runtime)
        }
    }

    /// A rebuild `--until TIME` that read nothing usually names a time before the log's records:
    /// say what the records' Kafka timestamps span, which is what `--until` compares with.
    private func explainEmptyTimeRange(_ milliseconds: Int64, plan: Plan, properties: [String: String]) {
        let until = RecordTimeSpan.describe(milliseconds)
        guard let span = RecordTimeSpan.of(topics: plan.topics, brokers: kafka.brokers, properties: properties) else {
            printError("rebuild \(plan.name): --until \(until) read no record: the source topics hold none")
            return
        }
        let relation = milliseconds < span.oldest ? "before the oldest record" : "within the records' span, yet no record is at or before it"
        printError("rebuild \(plan.name): --until \(until) read no record: it is \(relation). --until compares the Kafka record "
            + "timestamp (set by the producer or the broker), not a time inside the events; the records' timestamps span "
            + "\(RecordTimeSpan.describe(span.oldest)) to \(RecordTimeSpan.describe(span.newest))")
    }

    /// `seconds` with one decimal ("12.3"), without `String(format:)`: its C varargs cost
    /// ~1.7 M instructions of conformance lookups at the end of every rebuild.
    static func tenths(_ seconds: Double) -> String {
        let tenths = Int((max(seconds, 0) * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
