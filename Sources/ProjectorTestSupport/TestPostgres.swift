internal import Foundation
public import PostgresViews

/// The PostgreSQL server the tests use: `PROJECTOR_TEST_POSTGRES_URL`, which `scripts/test` and
/// `.ci/run` set by starting a private cluster (`scripts/postgres start`).
///
/// Each test takes a new schema of its own, so tests run in parallel on one database without
/// seeing each other's tables; the private cluster is deleted after the run.
public enum TestPostgres {
    /// The server's URL, or `nil` when none was given.
    public static var url: String? {
        ProcessInfo.processInfo.environment["PROJECTOR_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether the PostgreSQL tests run: always in CI (`CI=true`), where a missing server then
    /// fails them instead of skipping them; elsewhere when a server is given.
    public static var isEnabled: Bool {
        url != nil || ProcessInfo.processInfo.environment["CI"] == "true"
    }

    /// Thrown when a PostgreSQL test has no server.
    public struct Missing: Error, CustomStringConvertible {
        public init() {}

        public var description: String {
            "PROJECTOR_TEST_POSTGRES_URL is not set: start a server with eval \"$(scripts/postgres start)\", or run scripts/test"
        }
    }

    /// The location of a new, empty schema on the test server.
    public static func newSchema(prefix: String = "t") throws -> PostgresLocation {
        guard let url else { throw Missing() }
        let suffix = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        return try PostgresLocation(url: url, schema: "\(prefix)_\(suffix)")
    }

    /// Runs SQL with `psql` in the location's schema (the user's own SQL, as a colleague sharing
    /// the database would) and returns the first column of each row.
    @discardableResult
    public static func psql(_ location: PostgresLocation, _ sql: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
            "postgres://\(location.user)@\(location.host):\(location.port)/\(location.database)",
            "-c", "SET search_path TO \"\(location.schema)\"", "-c", sql,
        ]
        var environment = ProcessInfo.processInfo.environment
        if let password = location.password { environment["PGPASSWORD"] = password }
        environment["PGSSLMODE"] = location.tlsMode == .verifyFull ? "verify-full" : location.tlsMode.rawValue
        process.environment = environment
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw PsqlFailure(sql: sql, output: problems) }
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// `psql` refused the SQL.
    public struct PsqlFailure: Error, CustomStringConvertible {
        public var sql: String
        public var output: String
        public var description: String { "psql failed on \(sql): \(output)" }
    }
}
