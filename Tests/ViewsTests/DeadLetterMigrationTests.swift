import Foundation
import Pipelines
import ProjectorTesting
import Testing
@testable import Views
import ProjectorModel

/// The dead-letter columns added for `dead_letter: {park_key, topic}`: stores of the previous
/// release are read as they are and migrated when a writer opens them; letters keep their park
/// key, headers and publication; the outbox reads only pending letters.
@Suite("dead letters: migration and outbox")
struct DeadLetterMigrationTests {
    /// The internal schema of the release before the added columns, with one letter.
    static let previousRelease = """
        CREATE TABLE "_projector_pipelines" ("name" TEXT NOT NULL PRIMARY KEY, "version" INTEGER NOT NULL,
            "hash" TEXT NOT NULL, "created_at" TEXT NOT NULL, "rebuilt_at" TEXT);
        CREATE TABLE "_projector_checkpoints" ("pipeline" TEXT NOT NULL, "topic" TEXT NOT NULL, "partition" INTEGER NOT NULL,
            "next_offset" INTEGER NOT NULL, PRIMARY KEY ("pipeline", "topic", "partition"));
        CREATE TABLE "_projector_dead_letters" ("id" INTEGER PRIMARY KEY, "pipeline" TEXT NOT NULL, "topic" TEXT NOT NULL,
            "partition" INTEGER NOT NULL, "offset" INTEGER NOT NULL, "key" BLOB, "value" BLOB,
            "error" TEXT NOT NULL, "time" TEXT NOT NULL);
        CREATE INDEX "_projector_dead_letters_pipeline" ON "_projector_dead_letters" ("pipeline", "id");
        CREATE TABLE "_projector_counters" ("pipeline" TEXT NOT NULL, "name" TEXT NOT NULL, "value" INTEGER NOT NULL,
            PRIMARY KEY ("pipeline", "name"));
        CREATE TABLE "_projector_views" ("pipeline" TEXT NOT NULL, "name" TEXT NOT NULL, "table_name" TEXT NOT NULL,
            PRIMARY KEY ("pipeline", "name"));
        INSERT INTO "_projector_pipelines" VALUES ('order_summary', 1, 'sha256:aaaa', '2026-01-01T00:00:00Z', NULL);
        INSERT INTO "_projector_dead_letters" ("pipeline", "topic", "partition", "offset", "key", "value", "error", "time")
            VALUES ('order_summary', 'orders', 0, 7, CAST('o-1' AS BLOB), CAST('{bad' AS BLOB), 'malformedJSON: x', '2026-01-01T00:00:00Z');
        """

    static func sqlite(_ path: String, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path, sql]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test func previousReleaseStoreIsReadThenMigrated() throws {
        let database = try TemporaryDatabase()
        try Self.sqlite(database.path, Self.previousRelease)

        let reader = try SQLiteViewStore(path: database.path, configuration: .init(isReadOnly: true))
        let old = try reader.deadLetters()
        #expect(old.count == 1)
        #expect(old.first?.letter.offset == 7)
        #expect(old.first?.letter.parkKey == nil && old.first?.letter.headers == [] && old.first?.letter.publication == DeadLetterPublication.none)
        #expect(try reader.pipelines().first?.deadLetters == 1)

        let store = try SQLiteViewStore(path: database.path)
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        let headers = [DeadLetterHeader(name: "trace", value: Array("t-1".utf8)), DeadLetterHeader(name: "empty", value: nil),
                       DeadLetterHeader(name: "bytes", value: [0, 255, 10])]
        try store.write(pipeline: Orders.name) { transaction in
            try transaction.addDeadLetters([DeadLetter(
                topic: "orders", partition: 1, offset: 9, key: Array("o-2".utf8), value: Array("{}".utf8), error: "overflow: y",
                parkKey: "o-2", headers: headers, publication: .pending)])
        }
        let letters = try store.deadLetters()
        #expect(letters.count == 2)
        #expect(letters[0].letter.publication == DeadLetterPublication.none)
        #expect(letters[1].letter.parkKey == "o-2")
        #expect(letters[1].letter.headers == headers)
        #expect(letters[1].letter.publication == .pending)
        #expect(try store.pipelines().first.map { ($0.deadLetters, $0.unpublishedDeadLetters) } ?? (0, 0) == (2, 1))

        #expect(try store.deadLettersToPublish(pipeline: Orders.name, after: 0, limit: 10).map(\.id) == [letters[1].id])
        #expect(try store.deadLettersToPublish(pipeline: Orders.name, after: letters[1].id, limit: 10).isEmpty)
        try store.markDeadLettersPublished(ids: [letters[1].id])
        #expect(try store.deadLettersToPublish(pipeline: Orders.name, after: 0, limit: 10).isEmpty)
        #expect(try store.deadLetters()[1].letter.publication == .published)
        #expect(try store.pipelines().first?.unpublishedDeadLetters == 0)

        // Opening again migrates nothing twice; reading in a write transaction sees the same letters.
        let again = try SQLiteViewStore(path: database.path)
        try again.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        let inTransaction = try again.write(pipeline: Orders.name) { transaction in try transaction.deadLetters() }
        #expect(inTransaction == (try again.deadLetters()))
    }

    @Test func headerBlobRoundTripsAndEmptyIsNull() {
        #expect(DeadLetterHeader.encode([]) == nil)
        #expect(DeadLetterHeader.decode(nil) == [])
        let headers = [DeadLetterHeader(name: "ü", value: []), DeadLetterHeader(name: "", value: nil)]
        #expect(DeadLetterHeader.decode(DeadLetterHeader.encode(headers)) == headers)
        let truncated = Array(DeadLetterHeader.encode(headers)!.dropLast(3))
        #expect(DeadLetterHeader.decode(truncated) == [headers[0]])
    }
}
