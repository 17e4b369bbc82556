import ArgumentParser
import Foundation
import Pipelines

/// `projector validate FILE...`: parses and validates pipeline files without running them.
///
/// Prints `file: ok (N views, M event types)` per valid file on standard output, and each problem
/// as `file:line:column: message` on standard error. Exits with 2 when any file is invalid.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check pipeline files: YAML, names, types, paths and expressions.",
        discussion: """
        Exits with 0 when every file is valid and 2 otherwise; errors are printed as file:line:column: message.

        With --events FILE.jsonl (one pipeline file): a dry run in memory over those events, one JSON \
        event per line — the resulting rows (the first --rows per view), the counters, the event types \
        seen that no handler takes, the handlers never triggered, and every event error with its line \
        number. Exits with 1 when an event failed (3 is for a worker stopped by one).

        Examples:
          projector validate pipelines/*.yaml
          projector validate pipelines/order_summary.yaml --events pipelines/samples/orders.jsonl --rows 5
        """
    )

    @Argument(help: "The pipeline files (YAML) to check.")
    var files: [String]

    @Option(help: ArgumentHelp("Run the pipeline in memory over these JSON-lines events (one pipeline file).", valueName: "file.jsonl"))
    var events: String?

    @Option(help: "With --events: the rows shown per view.")
    var rows = 10

    func validate() throws {
        if files.isEmpty { throw ValidationError("Give at least one pipeline file.") }
        if events != nil && files.count != 1 { throw ValidationError("--events runs one pipeline: give one file.") }
        if rows < 0 { throw ValidationError("--rows must be 0 or more.") }
    }

    /// The outcome of validating files: lines for standard output and standard error, and the exit code.
    struct Report: Equatable {
        var output: [String] = []
        var errors: [String] = []
        var exitCode: Int32 = 0
    }

    /// Validates `files` without printing.
    static func check(_ files: [String]) -> Report {
        var report = Report()
        for file in files {
            do {
                let pipeline = try Pipeline.load(path: file)
                let types = pipeline.eventTypes.count
                report.output.append("\(file): ok (\(pipeline.views.count) view\(pipeline.views.count == 1 ? "" : "s"), \(types) event type\(types == 1 ? "" : "s"))")
            } catch let error as PipelineError {
                report.errors.append(contentsOf: error.problems.map(\.singleLine))
                report.exitCode = 2
            } catch {
                report.errors.append("\(file): \(error)")
                report.exitCode = 2
            }
        }
        return report
    }

    func run() throws {
        let report = Self.check(files)
        for line in report.output { print(line) }
        for line in report.errors { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
        guard let events else { return }
        try reportingFailures {
            let failed = try DryRun(file: files[0], eventsFile: events, rowsPerView: rows).run(try Pipeline.load(path: files[0]))
            if failed { throw ExitCode(ExitStatus.runtime) }
        }
    }
}
