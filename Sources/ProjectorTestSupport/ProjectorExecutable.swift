internal import ProjectorTools
internal import ProjectorTesting
public import Foundation

/// The built `projector` executable, run as a child process by end-to-end tests.
///
/// ```swift
/// let result = try ProjectorExecutable.run(["validate", "pipelines/inventory.yaml"])
/// #expect(result.status == 0)
/// ```
public enum ProjectorExecutable {
    /// What a finished run printed and how it ended.
    public struct Result: Sendable {
        /// The exit status (or the signal number when `wasSignaled`).
        public var status: Int32
        /// Whether a signal ended the process.
        public var wasSignaled: Bool
        /// Standard output.
        public var stdout: String
        /// Standard error.
        public var stderr: String

        /// Standard output read as one JSON object per line (what `--json` listings print).
        /// - Throws: when a line is not a JSON object.
        public func jsonLines() throws -> [[String: Any]] {
            try stdout.split(separator: "\n").map { line in
                guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    throw CocoaError(.propertyListReadCorrupt, userInfo: [NSDebugDescriptionErrorKey: "not a JSON object: \(line)"])
                }
                return object
            }
        }
    }

    /// The repository root (the folder holding Package.swift).
    public static let repositoryRoot: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path),
              directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory
    }()

    /// The `projector` binary beside the test bundle (`swift build --build-tests` builds it).
    public static var url: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while directory.pathExtension == "xctest" || ["MacOS", "Contents"].contains(directory.lastPathComponent) {
            directory.deleteLastPathComponent()
        }
        let beside = directory.appendingPathComponent("projector")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return repositoryRoot.appendingPathComponent(".build/debug/projector")
    }

    /// Starts `projector` with `arguments`; its output goes to files in `directory` named after `label`.
    /// - Returns: the running process and the paths of its stdout and stderr files.
    public static func start(
        _ arguments: [String], in directory: URL, label: String = UUID().uuidString, environment: [String: String] = [:]
    ) throws -> (process: Process, stdout: URL, stderr: URL) {
        let stdout = directory.appendingPathComponent("\(label).out")
        let stderr = directory.appendingPathComponent("\(label).err")
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.currentDirectoryURL = repositoryRoot
        process.environment = ProcessInfo.processInfo.environment.merging(["CI": "true"].merging(environment) { $1 }) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, stdout, stderr)
    }

    /// Runs `projector` with `arguments` to its end.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("projector-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (process, stdout, stderr) = try start(arguments, in: directory, label: "run", environment: environment)
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, wasSignaled: process.terminationReason == .uncaughtSignal,
            stdout: (try? String(contentsOf: stdout, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderr, encoding: .utf8)) ?? "")
    }
}
