import ArgumentParser
import Foundation
import Pipelines
import ProjectorTesting

/// `projector test PIPELINE...`: runs the pipelines' own tests in memory.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the tests of pipelines (their tests: section and NAME.test.yaml beside them) in memory.",
        discussion: """
        Each test gives messages (inline events, JSON-lines files, keys, partitions, tombstones) and the \
        rows and dead letters expected afterwards; they run through the worker's batch path into an \
        in-memory SQLite store, without a broker. A directory stands for the *.yaml pipelines in it and \
        its subdirectories (NAME.test.yaml files are read as the tests of NAME.yaml). Prints PASS or FAIL per test, \
        and per failure what was expected and what was found.

        Exit codes: 0 every test passed, 1 a test found a difference, 2 bad usage or an invalid \
        pipeline or test.

        Examples:
          projector test pipelines/
          projector test pipelines/order_summary.yaml
        """
    )

    @Argument(help: "Pipeline files (YAML) or directories of them.")
    var pipelines: [String]

    func validate() throws {
        if pipelines.isEmpty { throw ValidationError("Give at least one pipeline file or directory.") }
    }

    func run() throws {
        var failed = 0
        var passed = 0
        for file in try Self.pipelineFiles(pipelines) {
            let pipeline: Pipeline
            let tests: [PipelineTest]
            do {
                pipeline = try Pipeline.load(path: file)
                tests = try pipeline.allTests(path: file)
            } catch let error as PipelineError {
                for problem in error.problems { printError(problem.singleLine) }
                throw ExitCode(ExitStatus.usage)
            }
            if tests.isEmpty { print("\(file): no tests") }
            for test in tests {
                let run: PipelineTestRun
                do {
                    run = try PipelineTestRun(test, pipeline: pipeline)
                } catch {
                    printError("error: \(test.location): \(test.name): \(error)")
                    throw ExitCode(ExitStatus.runtime)
                }
                if run.passed {
                    passed += 1
                    print("PASS \(pipeline.name): \(test.name)")
                } else {
                    failed += 1
                    print("FAIL \(pipeline.name): \(test.name) (\(test.location))")
                    for line in run.differences { print("  \(line)") }
                }
            }
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(ExitStatus.runtime) }
    }

    /// The pipeline files named, directories expanded to the `*.yaml`/`*.yml` files in them and below (not `*.test.yaml`), sorted.
    static func pipelineFiles(_ arguments: [String]) throws -> [String] {
        var files: [String] = []
        for argument in arguments {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                printError("error: \(argument): no such file or directory")
                throw ExitCode(ExitStatus.usage)
            }
            guard isDirectory.boolValue else { files.append(argument); continue }
            let names = (try? FileManager.default.subpathsOfDirectory(atPath: argument)) ?? []
            files += names.filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasSuffix(".test.yaml") }.sorted()
                .map { (argument as NSString).appendingPathComponent($0) }
        }
        return files
    }
}
