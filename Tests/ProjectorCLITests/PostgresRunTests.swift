import Foundation
import PostgresViews
import ProjectorModel
import ProjectorTestSupport
import ProjectorTesting
import Testing
import Views

/// `projector run`, `status`, `verify`, `rebuild` and `reset` with `--db postgres://…`: the built
/// binary, the mock cluster in this process, the test PostgreSQL server (a schema per test).
@Suite("projector on PostgreSQL, end to end", .enabled(if: TestPostgres.isEnabled))
struct PostgresRunTests {
    @Test("run, status, verify, rebuild and reset on PostgreSQL give the views of an SQLite run")
    func commandsOnPostgres() throws {
        let stream = try RunCommandTests.Stream(partitions: 4, streamLength: 4_000)
        let reference = try stream.reference()
        let location = try TestPostgres.newSchema(prefix: "run")
        let url = try #require(TestPostgres.url)
        let db = ["--db", url, "--db-schema", location.schema]

        let run = try ProjectorExecutable.run(stream.arguments(database: url, extra: ["--db-schema", location.schema]))
        #expect(run.status == 0, "\(run.stderr)")
        try Self.expectSameViews(location, as: reference)
        let store = try PostgresViewStore(location: location, configuration: .init(isReadOnly: true))
        #expect(try store.checkpoints(pipeline: "order_summary").reduce(0) { $0 + $1.nextOffset } == Int64(stream.events))
        // The tables are plain PostgreSQL tables: psql reads them.
        let count = try TestPostgres.psql(location, #"SELECT count(*) FROM "order_summary""#)
        #expect(count == [String(try store.rows(ofView: "order_summary").rows.count)])

        let status = try ProjectorExecutable.run(["status", "--json"] + db)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("\"order_summary\""))

        let verify = try ProjectorExecutable.run(
            ["verify", "pipelines/order_summary.yaml", "--brokers", stream.fixture.bootstrapServers] + db)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        let rebuild = try ProjectorExecutable.run(
            ["rebuild", "pipelines/order_summary.yaml", "--brokers", stream.fixture.bootstrapServers] + db)
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        try Self.expectSameViews(location, as: reference)
        #expect(try store.pipelines().first?.rebuiltAt != nil)

        let reset = try ProjectorExecutable.run(["reset", "pipelines/order_summary.yaml", "--to-earliest", "--yes"] + db)
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(try store.checkpoints(pipeline: "order_summary").isEmpty)
        #expect(try store.rows(ofView: "order_summary").rows.isEmpty)
    }

    @Test("an unreachable server fails with a clear error (exit 1), a malformed URL as bad usage (exit 2)")
    func unreachable() throws {
        let bad = try ProjectorExecutable.run(["status", "--db", "postgres://nobody@127.0.0.1:1/none?sslmode=disable"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("cannot connect to the view store postgres://nobody@127.0.0.1:1/none"))
        let malformed = try ProjectorExecutable.run(["status", "--db", "postgres://127.0.0.1/db"])
        #expect(malformed.status == 2)
        #expect(malformed.stderr.contains("names no user"))
    }

    /// Records an issue unless the PostgreSQL views equal the SQLite reference's.
    static func expectSameViews(_ location: PostgresLocation, as referencePath: String) throws {
        try RunCommandTests.expectSameViews(PostgresViewStore(location: location, configuration: .init(isReadOnly: true)), as: referencePath)
    }
}
