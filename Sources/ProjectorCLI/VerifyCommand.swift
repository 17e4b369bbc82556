import ArgumentParser
import Foundation
import Pipelines
import Projector
import ProjectorTools
import Views
import ProjectorModel

/// `projector verify`: does a rebuild up to the live checkpoints equal the live views?
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that the live views equal a rebuild of the pipeline up to the live checkpoints.",
        discussion: """
        Rebuilds the pipeline into a scratch database (removed afterwards) up to the live checkpoints \
        and compares every view by its deterministic digest, read in one snapshot with the checkpoints \
        (a running worker may go on meanwhile). Prints `equal`, or `different` with up to 10 differing \
        keys and both rows (stdout). The live database is only read.

        Exit codes: 0 equal, 1 different (or a broker or database failure), 2 bad usage, an invalid \
        pipeline, or live views built by another definition.

        Example:
          projector verify pipelines/order_summary.yaml --brokers 127.0.0.1:9092 --db views.sqlite
        """)

    @Argument(help: "The pipeline file (YAML) that built the live views.")
    var pipeline: String

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "The live views: an SQLite file, or a postgres://user@host:port/db URL.")
    var db: String

    @OptionGroup var database: DatabaseOptions

    func run() throws {
        let plan = try loadPlans([pipeline])[0]
        let properties = try kafka.librdkafka.properties(command: "verify")
        let live = try openStore(db, database: database, readOnly: true)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("projector-verify-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw failure(ProjectorError(code: .database, message: "verify: cannot create a scratch directory: \(error)"))
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        let scratch = try openScratchStore(directory.appendingPathComponent("scratch.sqlite").path)
        let signal = ShutdownSignal()
        let sources = stopOnSignals(signal)
        defer { withExtendedLifetime(sources) {} }
        let progress = ProgressLine()
        let report: VerificationReport?
        do {
            report = try Verification.run(
                projection: plan, live: live, scratch: scratch,
                options: RebuildOptions(brokers: kafka.brokers, properties: properties), signal: signal,
                onProgress: { progress.update($0.summary) })
        } catch {
            progress.finish()
            throw failure(error)
        }
        progress.finish()
        guard let report else {
            printError("verify \(plan.name): stopped")
            throw ExitCode(ExitStatus.runtime)
        }
        if report.isEqual {
            print("equal")
            return
        }
        print("different")
        for view in report.views where !view.isEqual {
            print("view \(view.name): live \(view.live), rebuilt \(view.rebuilt)")
        }
        for difference in report.differences {
            print("\(difference.view) key (\(Self.render(difference.key)))")
            print("  live:    \(difference.live.map(Self.render) ?? "(no row)")")
            print("  rebuilt: \(difference.rebuilt.map(Self.render) ?? "(no row)")")
        }
        throw ExitCode(ExitStatus.runtime)
    }

    static func render(_ values: [ViewValue]) -> String {
        values.map { value in
            if case .text(let text) = value { return "'\(text)'" }
            return value.displayText
        }.joined(separator: ", ")
    }
}
