internal import GRDBSQLite
internal import Pipelines

extension SQLiteViewTransaction {
    /// The pipeline's dead letters in this transaction, ordered by id (raw reads: a writer's store
    /// is migrated, so the added columns exist).
    mutating func deadLetters() throws -> [StoredDeadLetter] {
        var statement: OpaquePointer?
        let sql = """
            SELECT "id", "topic", "partition", "offset", "key", "value", "error", "time", "park_key", "headers", "published"
            FROM "_projector_dead_letters" WHERE "pipeline" = ?1 ORDER BY "id"
            """
        let prepared = sqlite3_prepare_v2(connection, sql, -1, &statement, nil)
        guard prepared == SQLITE_OK, let statement else {
            throw sqliteError(code: prepared, connection: connection, doing: "reading the dead letters of \(pipeline)")
        }
        defer { sqlite3_finalize(statement) }
        try bind(.text(storageKey), at: 1, in: statement, connection: connection)
        func blob(_ index: Int32) -> [UInt8]? {
            guard sqlite3_column_type(statement, index) != SQLITE_NULL else { return nil }
            let count = Int(sqlite3_column_bytes(statement, index))
            guard let bytes = sqlite3_column_blob(statement, index), count > 0 else { return [] }
            return Array(UnsafeRawBufferPointer(start: bytes, count: count))
        }
        func text(_ index: Int32) -> String? {
            if case .text(let value) = column(index, of: statement) { return value }
            return nil
        }
        var letters: [StoredDeadLetter] = []
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW:
                let published = sqlite3_column_type(statement, 10) == SQLITE_NULL ? nil : sqlite3_column_int64(statement, 10)
                let letter = DeadLetter(
                    topic: text(1) ?? "", partition: Int32(truncatingIfNeeded: sqlite3_column_int64(statement, 2)),
                    offset: sqlite3_column_int64(statement, 3), key: blob(4), value: blob(5),
                    error: text(6) ?? "", time: text(7) ?? "", parkKey: text(8),
                    headers: DeadLetterHeader.decode(blob(9)), publication: DeadLetterPublication(stored: published))
                letters.append(StoredDeadLetter(id: sqlite3_column_int64(statement, 0), pipeline: pipeline, letter: letter))
            case SQLITE_DONE:
                return letters
            case let code:
                throw sqliteError(code: code, connection: connection, doing: "reading the dead letters of \(pipeline)")
            }
        }
    }
}
