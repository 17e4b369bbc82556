import ArgumentParser
import Foundation
import Projector
import Views
import ProjectorModel

/// `projector reset`: start a pipeline over, or put its views back to a past position.
struct ResetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Reset a pipeline's views and checkpoints: to the earliest offsets, or to a past position.",
        discussion: """
        --to-earliest empties the pipeline's views and drops its checkpoints and counters in one \
        transaction (dead letters are kept): the next `run` reads from the earliest offsets.

        --to-offset and --to-time never just move the checkpoints, which would leave rows that \
        reflect later events beside checkpoints that replay them (a mix): they rebuild the views in \
        place, from the earliest offsets up to that position, and swap views and checkpoints in one \
        transaction. They need --brokers. --to-offset takes topic:partition:offset,... for every source \
        partition (events before those offsets are kept, like checkpoints); --to-time takes an ISO-8601 \
        time (events whose Kafka timestamp is at or before it).

        Stop the pipeline's workers first: a running worker goes on from the position it holds.

        Asks for confirmation on a terminal; without one, pass --yes (else exit 2).

        Exit codes: 0 done, 1 failure or not confirmed, 2 bad usage or invalid pipeline.

        Examples:
          projector reset pipelines/order_summary.yaml --db views.sqlite --to-earliest --yes
          projector reset pipelines/order_summary.yaml --db views.sqlite --brokers 127.0.0.1:9092 \\
              --to-offset orders:0:1200,orders:1:1187,orders:2:1203
          projector reset pipelines/order_summary.yaml --db views.sqlite --brokers 127.0.0.1:9092 \\
              --to-time 2026-11-01T00:00:00Z
        """)

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @Option(help: "The views: an SQLite file, or a postgres://user@host:port/db URL.")
    var db: String

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Empty the views and drop the checkpoints: the next run starts from the earliest offsets.")
    var toEarliest = false

    @Option(help: ArgumentHelp("Rebuild the views in place as of these offsets (every source partition).",
                               valueName: "topic:partition:offset,..."))
    var toOffset: String?

    @Option(help: ArgumentHelp("Rebuild the views in place as of this ISO-8601 time.", valueName: "time"))
    var toTime: String?

    @Option(help: ArgumentHelp("Bootstrap brokers (for --to-offset and --to-time).", valueName: "host:port"))
    var brokers: String?

    @OptionGroup var librdkafka: LibrdkafkaPropertyOptions

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    func validate() throws {
        let targets = [toEarliest, toOffset != nil, toTime != nil].filter { $0 }.count
        if targets != 1 {
            throw ValidationError("give exactly one of --to-earliest, --to-offset, --to-time.")
        }
        if !toEarliest && brokers == nil {
            throw ValidationError("--to-offset and --to-time rebuild the views in place and need --brokers.")
        }
    }

    func run() throws {
        let plan = try loadPlans([pipeline])[0]
        let properties = try librdkafka.properties(command: "reset")
        var position: UntilPosition?
        if let text = toOffset ?? toTime {
            do { position = try UntilPosition(parsing: text) } catch { throw failure(error) }
            if toOffset != nil, case .time = position {
                throw failure(ProjectorError(code: .usage, message: "--to-offset expects topic:partition:offset,...; got a time"))
            }
            if toTime != nil, case .offsets = position {
                throw failure(ProjectorError(code: .usage, message: "--to-time expects an ISO-8601 time such as 2026-11-01T00:00:00Z"))
            }
        }
        let what = toEarliest ? "empty the views of pipeline \(plan.name) and drop its checkpoints"
            : "rebuild the views of pipeline \(plan.name) as of \(toOffset ?? toTime ?? "")"
        if !yes {
            guard isatty(STDIN_FILENO) == 1 else {
                printError("projector reset: error: this would \(what) in \(db); pass --yes to confirm without a terminal")
                throw ExitCode(ExitStatus.usage)
            }
            FileHandle.standardError.write(Data("This will \(what) in \(db). Continue? [y/N] ".utf8))
            let answer = (readLine() ?? "").trimmingCharacters(in: .whitespaces).lowercased()
            guard answer == "y" || answer == "yes" else {
                printError("reset: nothing changed")
                throw ExitCode(ExitStatus.runtime)
            }
        }
        let store = try openStore(db, database: database)
        guard let position, let brokers else {
            do { try Reset.toEarliest(projection: plan, store: store) } catch { throw failure(error) }
            printError("reset \(plan.name): views emptied and checkpoints dropped; the next run starts from the earliest offsets")
            return
        }
        let summary = try runRebuild(plan, store: store, options: RebuildOptions(
            brokers: brokers, properties: properties, until: position, restarts: true))
        guard summary.outcome == .swapped else {
            printError("reset \(plan.name): stopped; the views are untouched")
            throw ExitCode(ExitStatus.runtime)
        }
        printError("reset \(plan.name): views rebuilt as of "
            + summary.checkpoints.map { "\($0.topic):\($0.partition):\($0.nextOffset)" }.joined(separator: ","))
    }
}
