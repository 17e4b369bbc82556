internal import PostgresNIO
public import ProjectorModel
internal import Views

extension PostgresViewStore {
    /// The pipeline's dead letters after id `after` waiting for the dead-letter topic, ordered by id, at most `limit`.
    public func deadLettersToPublish(pipeline: String, after: Int64, limit: Int) throws -> [StoredDeadLetter] {
        try read(doing: "reading the dead letters of pipeline \(pipeline) to publish") {
            try Self.fetchDeadLetters(session, pipeline: pipeline, pendingAfter: after, limit: limit)
        }
    }

    /// Marks dead letters as produced to the dead-letter topic, in one statement.
    public func markDeadLettersPublished(ids: [Int64]) throws {
        guard !ids.isEmpty else { return }
        _ = try access {
            try session.execute(
                #"UPDATE "_projector_dead_letters" SET "published" = 1 WHERE "id" = ANY($1::bigint[])"#, binds(ids),
                doing: "marking dead letters published")
        }
    }

    /// Deletes the pipeline's dead letters with these ids without applying them and, in the same
    /// transaction, releases the keys they parked. Returns how many were deleted.
    public func skipDeadLetters(pipeline: String, ids: [Int64]) throws -> Int {
        try transaction(locking: [pipeline], doing: "skipping dead letters of pipeline \(pipeline)") {
            let deleted = try session.execute(
                #"DELETE FROM "_projector_dead_letters" WHERE "pipeline" = $1 AND "id" = ANY($2::bigint[])"#,
                binds(pipeline, ids), doing: "skipping dead letters of pipeline \(pipeline)")
            try repointParkedKeys(pipeline: pipeline)
            return deleted
        }
    }

    /// Makes the live parked-keys table agree with the letters left: every parked key waits
    /// behind its earliest letter, and keys without letters are unparked.
    private func repointParkedKeys(pipeline: String) throws {
        let view = ParkedKeys.tableName(pipeline: pipeline)
        guard let table = try session.query(
            #"SELECT "table_name" FROM "_projector_views" WHERE "pipeline" = $1 AND "name" = $2"#, binds(pipeline, view),
            doing: "finding the parked keys of \(pipeline)"
        ).first.flatMap({ Array($0)[0].text })
        else { return }
        let doing = "releasing the parked keys of \(pipeline)"
        try session.execute(
            """
            DELETE FROM \(quoted(table)) AS parked WHERE NOT EXISTS (
                SELECT 1 FROM "_projector_dead_letters" WHERE "pipeline" = $1 AND "park_key" = parked."key")
            """,
            binds(pipeline), doing: doing)
        try session.execute(
            """
            UPDATE \(quoted(table)) AS parked SET ("topic", "partition", "offset") = (
                SELECT "topic", "partition", "offset" FROM "_projector_dead_letters"
                WHERE "pipeline" = $1 AND "park_key" = parked."key" ORDER BY "id" LIMIT 1)
            """,
            binds(pipeline), doing: doing)
    }

    /// Reads dead letters ordered by id (only the pending ones after id `pendingAfter` when given).
    static func fetchDeadLetters(_ session: PostgresSession, pipeline: String?, pendingAfter: Int64?, limit: Int?) throws -> [StoredDeadLetter] {
        var sql = """
            SELECT "id", "pipeline", "topic", "partition", "offset", "key", "value", "error", "time", "park_key", "headers", "published"
            FROM "_projector_dead_letters"
            """
        var conditions: [String] = []
        var bindings = PostgresBindings()
        if let pipeline {
            bindings.append(pipeline)
            conditions.append(#""pipeline" = $\#(bindings.count)"#)
        }
        if let pendingAfter {
            bindings.append(pendingAfter)
            conditions.append(#""published" = 0 AND "id" > $\#(bindings.count)"#)
        }
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += #" ORDER BY "id""#
        if let limit { sql += " LIMIT \(max(0, limit))" }
        return try session.query(sql, bindings, doing: "reading dead letters").map { row in
            let cells = Array(row)
            var letter = DeadLetter(
                topic: cells[2].text ?? "", partition: Int32(cells[3].integer ?? 0), offset: cells[4].integer ?? 0,
                key: cells[5].byteArray, value: cells[6].byteArray, error: cells[7].text ?? "", time: cells[8].text ?? "")
            letter.parkKey = cells[9].text
            letter.headers = DeadLetterHeader.decode(cells[10].byteArray)
            letter.publication = DeadLetterPublication(stored: cells[11].integer)
            return StoredDeadLetter(id: cells[0].integer ?? 0, pipeline: cells[1].text ?? "", letter: letter)
        }
    }
}
