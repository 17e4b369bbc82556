import Foundation
import PostgresViews
import ProjectorTestSupport
import ProjectorTesting
import Testing

/// `projector bench` and `projector demo` with `--db postgres://…`, on the test PostgreSQL server.
@Suite("bench and demo on PostgreSQL", .enabled(if: TestPostgres.isEnabled))
struct PostgresToolsTests {
    static let root = ProjectorExecutable.repositoryRoot

    @Test("bench --db projects into a new schema and drops it; --db without --pipeline or with an SQLite path is bad usage")
    func bench() throws {
        let url = try #require(TestPostgres.url)
        let probe = try TestPostgres.newSchema(prefix: "probe")
        let benchSchemas = #"SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'projector\_bench\_%'"#
        let before = try TestPostgres.psql(probe, benchSchemas)
        let pipeline = Self.root.appendingPathComponent("pipelines/order_summary.yaml").path
        let result = try ProjectorExecutable.run(
            ["bench", "--messages", "600", "--events", "demo", "--skip-consume", "--pipeline", pipeline, "--db", url, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let phases = result.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let projected = phases.first { $0["mode"] as? String == "pipeline" }
        #expect(projected?["messages"] as? Int == 600, "\(result.stdout)")
        #expect(try TestPostgres.psql(probe, benchSchemas) == before, "the bench schema was dropped")

        let noPipeline = try ProjectorExecutable.run(["bench", "--messages", "10", "--db", url])
        #expect(noPipeline.status == 2 && noPipeline.stderr.contains("give --pipeline too"), "\(noPipeline.stderr)")
        let sqlite = try ProjectorExecutable.run(["bench", "--messages", "10", "--pipeline", pipeline, "--db", "views.sqlite"])
        #expect(sqlite.status == 2 && sqlite.stderr.contains("postgres:// URL"), "\(sqlite.stderr)")
    }

    @Test("demo --db runs every example pipeline into a PostgreSQL schema it replaces, and says how to look")
    func demo() throws {
        let url = try #require(TestPostgres.url)
        let location = try TestPostgres.newSchema(prefix: "demo")
        let arguments = ["demo", "--pipelines", Self.root.appendingPathComponent("pipelines").path, "--events", "300",
                         "--db", url, "--db-schema", location.schema]
        // A table left from before goes with the replaced schema.
        try TestPostgres.psql(location, "CREATE SCHEMA \(location.schema); CREATE TABLE \(location.schema).leftover (x int)")
        let result = try ProjectorExecutable.run(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("order_summary → order_summary"), "\(result.stdout)")
        #expect(result.stdout.contains("psql ") && result.stdout.contains("--db-schema \(location.schema)"), "\(result.stdout)")
        let rows = try TestPostgres.psql(location, "SELECT count(*) FROM order_summary")
        #expect(Int(rows.first ?? "") ?? 0 > 0, "\(rows)")
        #expect(try TestPostgres.psql(location, "SELECT to_regclass('leftover') IS NULL") == ["t"])
        try TestPostgres.psql(location, "DROP SCHEMA \(location.schema) CASCADE")
    }
}
