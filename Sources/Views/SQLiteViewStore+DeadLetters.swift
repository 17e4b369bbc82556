internal import Foundation
internal import GRDB
public import ProjectorModel

extension SQLiteViewStore {
    /// The pipeline's dead letters after id `after` waiting for the dead-letter topic, ordered by id, at most `limit`.
    public func deadLettersToPublish(pipeline: String, after: Int64, limit: Int) throws -> [StoredDeadLetter] {
        try read(doing: "reading the dead letters of pipeline \(pipeline) to publish") { db in
            guard try Self.hasAddedDeadLetterColumns(db) else { return [] }
            return try Self.fetchDeadLetters(db, pipeline: pipeline, pendingAfter: after, limit: limit)
        }
    }

    /// Marks dead letters as produced to the dead-letter topic, in one transaction.
    public func markDeadLettersPublished(ids: [Int64]) throws {
        try access(doing: "marking dead letters published") { db in
            try db.inTransaction(.immediate) {
                let statement = try db.makeStatement(sql: #"UPDATE "_projector_dead_letters" SET "published" = 1 WHERE "id" = ?"#)
                for id in ids { try statement.execute(arguments: [id]) }
                return .commit
            }
        }
    }

    /// Deletes the pipeline's dead letters with these ids without applying them and, in the same
    /// transaction, releases the keys they parked: a parked key with no letter left is unparked;
    /// one with letters left waits behind the earliest of them. Returns how many were deleted.
    public func skipDeadLetters(pipeline: String, ids: [Int64]) throws -> Int {
        try access(doing: "skipping dead letters of pipeline \(pipeline)") { db in
            var deleted = 0
            try db.inTransaction(.immediate) {
                let delete = try db.makeStatement(sql: #"DELETE FROM "_projector_dead_letters" WHERE "id" = ? AND "pipeline" = ?"#)
                for id in ids {
                    try delete.execute(arguments: [id, pipeline])
                    deleted += db.changesCount
                }
                try Self.repointParkedKeys(db, pipeline: pipeline)
                return .commit
            }
            return deleted
        }
    }

    /// Makes the live parked-keys table agree with the letters left: every parked key waits
    /// behind its earliest letter, and keys without letters are unparked.
    private static func repointParkedKeys(_ db: Database, pipeline: String) throws {
        let view = ParkedKeys.tableName(pipeline: pipeline)
        guard let table = try String.fetchOne(
            db, sql: #"SELECT "table_name" FROM "_projector_views" WHERE "pipeline" = ? AND "name" = ?"#,
            arguments: [pipeline, view])
        else { return }
        let letters = """
            SELECT "topic", "partition", "offset" FROM "_projector_dead_letters"
            WHERE "pipeline" = ?1 AND "park_key" = \(quoted(table))."key" ORDER BY "id" LIMIT 1
            """
        try db.execute(
            sql: """
                DELETE FROM \(quoted(table)) WHERE NOT EXISTS (
                    SELECT 1 FROM "_projector_dead_letters" WHERE "pipeline" = ?1 AND "park_key" = \(quoted(table))."key")
                """,
            arguments: [pipeline])
        try db.execute(
            sql: """
                UPDATE \(quoted(table)) SET ("topic", "partition", "offset") = (\(letters))
                """,
            arguments: [pipeline])
    }

    /// Reads dead letters ordered by id (only the pending ones after id `pendingAfter` when given);
    /// stores not yet migrated read without the added columns.
    static func fetchDeadLetters(_ db: Database, pipeline: String?, pendingAfter: Int64?, limit: Int?) throws -> [StoredDeadLetter] {
        let isMigrated = try hasAddedDeadLetterColumns(db)
        var sql = #"SELECT "id", "pipeline", "topic", "partition", "offset", "key", "value", "error", "time""#
        sql += isMigrated ? #", "park_key", "headers", "published""# : ""
        sql += #" FROM "_projector_dead_letters""#
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let pipeline {
            conditions.append(#""pipeline" = ?"#)
            arguments += [pipeline]
        }
        if let pendingAfter {
            conditions.append(#""published" = 0 AND "id" > ?"#)
            arguments += [pendingAfter]
        }
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += #" ORDER BY "id""#
        if let limit { sql += " LIMIT \(max(0, limit))" }
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            let key: Data? = row["key"]
            let value: Data? = row["value"]
            var letter = DeadLetter(
                topic: row["topic"], partition: row["partition"], offset: row["offset"],
                key: key.map { Array($0) }, value: value.map { Array($0) },
                error: row["error"], time: row["time"] as String)
            if isMigrated {
                let headers: Data? = row["headers"]
                letter.parkKey = row["park_key"]
                letter.headers = DeadLetterHeader.decode(headers.map { Array($0) })
                letter.publication = DeadLetterPublication(stored: row["published"])
            }
            return StoredDeadLetter(id: row["id"], pipeline: row["pipeline"], letter: letter)
        }
    }
}
