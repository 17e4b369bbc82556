import Foundation
import ProjectorTesting

/// A PostgreSQL cluster of its own for a fault test (`scripts/postgres start`), so that
/// restarting it or filling its connection slots disturbs no other test. Stopped and removed
/// on `deinit`.
final class PrivatePostgres: @unchecked Sendable {
    // @unchecked Sendable: immutable after init.
    /// `postgres://projector@127.0.0.1:PORT/projector?sslmode=disable`
    let url: String
    /// The cluster's directory (data, log, socket).
    let directory: String

    init() throws {
        let output = try Self.script(["start"])
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1).map(String.init)
            if assignment.count == 2 { values[assignment[0]] = assignment[1] }
        }
        guard let url = values["PROJECTOR_TEST_POSTGRES_URL"], let directory = values["PROJECTOR_TEST_POSTGRES_DIR"] else {
            throw Failure(description: "scripts/postgres start printed no URL: \(output)")
        }
        self.url = url
        self.directory = directory
    }

    deinit {
        _ = try? Self.script(["stop", directory])
    }

    /// Restarts the server (fast shutdown: every session ends at once, open transactions roll back).
    func restart() throws {
        try Self.script(["restart", directory])
    }

    /// Runs SQL as the `projector` superuser and returns the first column of each row.
    @discardableResult
    func psql(_ sql: String) throws -> [String] {
        let output = try Self.command("/usr/bin/env", ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        return output.split(separator: "\n").map(String.init)
    }

    /// A `psql` session that runs `statements` and stays connected (its transaction open) until
    /// ``finish()``; ``isReady`` turns true once the statements ran.
    final class Session: @unchecked Sendable {
        // @unchecked Sendable: used by the test's thread only.
        let process = Process()
        private let input = Pipe()
        let flag: String
        let errors: URL

        init(url: String, statements: String, flag: String) throws {
            self.flag = flag
            errors = URL(fileURLWithPath: flag + ".err")
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url]
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: errors)
            try process.run()
            input.fileHandleForWriting.write(Data("\(statements)\n\\! touch '\(flag)'\n".utf8))
        }

        /// Whether the statements ran (the session holds what they took).
        var isReady: Bool { FileManager.default.fileExists(atPath: flag) }
        /// What psql printed on its standard error.
        var errorOutput: String { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }

        /// Ends the session; an open transaction rolls back.
        func finish() {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    @discardableResult
    private static func script(_ arguments: [String]) throws -> String {
        try command("scripts/postgres", arguments)
    }

    /// The exit status, reaped here: Foundation's `waitUntilExit()` was seen to wait forever on a
    /// `scripts/postgres start` that had exited (a zombie nobody reaped) once it had started the
    /// server daemon.
    private static func exitStatus(of process: Process) -> Int32 {
        var status: Int32 = 0
        guard waitpid(process.processIdentifier, &status, 0) == process.processIdentifier else {
            process.waitUntilExit()
            return process.terminationStatus
        }
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    private static func command(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard exitStatus(of: process) == 0 else {
            throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) failed: \(problems)")
        }
        return text
    }
}
