internal import GRDB
internal import GRDBSQLite
internal import ProjectorModel

/// Statements every pipeline shares, cached for the store's life.
final class CommonStatements {
    let begin: Statement
    /// A transaction that only reads, and takes the write lock only if it writes.
    let beginDeferred: Statement
    let commit: Statement
    let rollback: Statement
    let setCheckpoint: Statement
    let readCheckpoint: Statement
    /// Moves a claimed checkpoint only where the epoch and offset are still the claim's.
    let advanceCheckpoint: Statement
    /// The stored offset and epoch of a checkpoint whose advance found another claim.
    let readClaim: Statement
    let addDeadLetter: Statement
    let deleteDeadLetter: Statement
    let addCounter: Statement
    /// The text bytes of the row being bound on the hot path.
    let arena = BindArena()
    let dataVersion: Statement

    /// SQLite's `data_version`: it changes when another connection commits.
    func readDataVersion(connection: OpaquePointer?) throws -> Int64 {
        let statement = dataVersion.sqliteStatement
        defer { sqlite3_reset(statement) }
        let code = sqlite3_step(statement)
        guard code == SQLITE_ROW else { throw sqliteError(code: code, connection: connection, doing: "reading data_version") }
        return sqlite3_column_int64(statement, 0)
    }

    init(db: Database) throws {
        // IMMEDIATE takes the write lock at BEGIN, so a busy store fails before the batch's reads
        // rather than at COMMIT (https://sqlite.org/lang_transaction.html).
        begin = try db.makeStatement(sql: "BEGIN IMMEDIATE")
        beginDeferred = try db.makeStatement(sql: "BEGIN")
        commit = try db.makeStatement(sql: "COMMIT")
        rollback = try db.makeStatement(sql: "ROLLBACK")
        setCheckpoint = try db.makeStatement(sql: """
            INSERT INTO "_projector_checkpoints" ("pipeline", "topic", "partition", "next_offset")
            VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT ("pipeline", "topic", "partition") DO UPDATE SET "next_offset" = excluded."next_offset"
            """)
        readCheckpoint = try db.makeStatement(sql: """
            SELECT "next_offset" FROM "_projector_checkpoints" WHERE "pipeline" = ?1 AND "topic" = ?2 AND "partition" = ?3
            """)
        advanceCheckpoint = try db.makeStatement(sql: """
            UPDATE "_projector_checkpoints" SET "next_offset" = ?1
            WHERE "pipeline" = ?2 AND "topic" = ?3 AND "partition" = ?4 AND "epoch" = ?5 AND "next_offset" = ?6
            """)
        readClaim = try db.makeStatement(sql: """
            SELECT "next_offset", "epoch" FROM "_projector_checkpoints" WHERE "pipeline" = ?1 AND "topic" = ?2 AND "partition" = ?3
            """)
        addDeadLetter = try db.makeStatement(sql: """
            INSERT INTO "_projector_dead_letters"
            ("pipeline", "topic", "partition", "offset", "key", "value", "error", "time", "park_key", "headers", "published")
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
            """)
        dataVersion = try db.makeStatement(sql: "PRAGMA data_version")
        deleteDeadLetter = try db.makeStatement(sql: """
            DELETE FROM "_projector_dead_letters" WHERE "id" = ?1 AND "pipeline" = ?2
            """)
        addCounter = try db.makeStatement(sql: """
            INSERT INTO "_projector_counters" ("pipeline", "name", "value") VALUES (?1, ?2, ?3)
            ON CONFLICT ("pipeline", "name") DO UPDATE SET "value" = "value" + excluded."value"
            """)
    }
}

/// The SQLite store's open write transaction.
///
/// - Important: Lives only inside ``SQLiteViewStore/write(pipeline:target:_:)``'s body, on the
///   thread running it; its statements belong to the store's connection.
struct SQLiteViewTransaction: ViewTransaction {
    let pipeline: String
    let target: ViewTarget
    /// The pipeline key in the internal tables (`name` or `name@shadow`).
    let storageKey: String
    let connection: OpaquePointer?
    /// The same connection through GRDB, for the transaction's rare non-hot-path reads.
    let db: Database
    let tables: [TableStatements]
    let common: CommonStatements

    func table(_ view: Int) throws -> TableStatements {
        guard tables.indices.contains(view) else {
            throw ViewStoreError(
                code: .invalidDefinition,
                message: "pipeline \(pipeline) has \(tables.count) tables but a change names table #\(view); "
                    + "prepare the store with the plan's views")
        }
        return tables[view]
    }

    func bindKey(_ key: [ViewValue], of table: TableStatements, in statement: OpaquePointer) throws {
        try checkKey(key, of: table)
        try common.arena.bind(key, in: statement, connection: connection)
    }

    func checkKey(_ key: [ViewValue], of table: TableStatements) throws {
        guard key.count == table.keyColumns.count else {
            throw ViewStoreError(
                code: .invalidDefinition,
                message: "a key of \(table.name) has \(key.count) values but the table's key has \(table.keyColumns.count)")
        }
    }

    mutating func row(in view: Int, key: [ViewValue]) throws -> [ViewValue]? {
        let table = try table(view)
        if let known = table.knownKeys, !known.mightContain(key) { return nil }
        if table.cachesRows, let cached = table.rows.lookup(key) { return cached }
        let statement = table.select.sqliteStatement
        try bindKey(key, of: table, in: statement)
        defer { sqlite3_reset(statement) }
        switch sqlite3_step(statement) {
        case SQLITE_ROW:
            var row: [ViewValue] = []
            row.reserveCapacity(Int(table.columnCount))
            for index in 0..<table.columnCount {
                row.append(column(index, of: statement))
            }
            if table.cachesRows { table.rows.record(key, row) }
            return row
        case SQLITE_DONE:
            if table.cachesRows { table.rows.record(key, nil) }
            return nil
        case let code:
            throw sqliteError(code: code, connection: connection, doing: "reading a row of \(table.name)")
        }
    }

    /// Changes with ``ViewChange/assignedColumns`` are written in one statement each run, as
    /// `ON CONFLICT … DO UPDATE SET` the columns given.
    var writesAssignedColumns: Bool { true }

    /// A key the table's known keys rule out, or a row the row cache holds.
    mutating func knownRow(in view: Int, key: [ViewValue]) -> [ViewValue]?? {
        guard tables.indices.contains(view) else { return nil }
        let table = tables[view]
        if let known = table.knownKeys, !known.mightContain(key) { return .some(nil) }
        if table.cachesRows, let cached = table.rows.lookup(key) { return cached }
        return nil
    }

    mutating func setCheckpoints(_ checkpoints: [Checkpoint]) throws {
        let statement = common.setCheckpoint.sqliteStatement
        for checkpoint in checkpoints {
            try bind(.text(storageKey), at: 1, in: statement, connection: connection)
            try bind(.text(checkpoint.topic), at: 2, in: statement, connection: connection)
            sqlite3_bind_int64(statement, 3, Int64(checkpoint.partition))
            sqlite3_bind_int64(statement, 4, checkpoint.nextOffset)
            try execute(statement, connection: connection, doing: "setting the checkpoint of \(checkpoint.topic)/\(checkpoint.partition)")
        }
    }

    mutating func advanceCheckpoints(_ checkpoints: [Checkpoint], claims: [PartitionClaim]) throws -> [PartitionClaim] {
        // Every batch of a worker runs this once per partition: prepared once (`CommonStatements`),
        // not compiled per call (~180,000 instructions each through GRDB's `execute(sql:)`).
        let statement = common.advanceCheckpoint.sqliteStatement
        var lost: [PartitionClaim] = []
        for (checkpoint, claim) in zip(checkpoints, claims) {
            sqlite3_bind_int64(statement, 1, checkpoint.nextOffset)
            try bind(.text(storageKey), at: 2, in: statement, connection: connection)
            try bind(.text(claim.topic), at: 3, in: statement, connection: connection)
            sqlite3_bind_int64(statement, 4, Int64(claim.partition))
            sqlite3_bind_int64(statement, 5, claim.epoch)
            sqlite3_bind_int64(statement, 6, claim.nextOffset)
            try execute(statement, connection: connection, doing: "advancing the checkpoint of \(claim.topic)/\(claim.partition)")
            guard sqlite3_changes(connection) == 0 else { continue }
            lost.append(try storedClaim(topic: claim.topic, partition: claim.partition))
        }
        return lost
    }

    /// The stored offset and epoch of a checkpoint (-1 each when there is none).
    private func storedClaim(topic: String, partition: Int32) throws -> PartitionClaim {
        let statement = common.readClaim.sqliteStatement
        defer { sqlite3_reset(statement) }
        try bind(.text(storageKey), at: 1, in: statement, connection: connection)
        try bind(.text(topic), at: 2, in: statement, connection: connection)
        sqlite3_bind_int64(statement, 3, Int64(partition))
        switch sqlite3_step(statement) {
        case SQLITE_ROW:
            return PartitionClaim(topic: topic, partition: partition, nextOffset: sqlite3_column_int64(statement, 0),
                                  epoch: sqlite3_column_int64(statement, 1))
        case SQLITE_DONE:
            return PartitionClaim(topic: topic, partition: partition, nextOffset: -1, epoch: -1)
        case let code:
            throw sqliteError(code: code, connection: connection, doing: "reading the claim of \(topic)/\(partition)")
        }
    }

    mutating func checkpoint(topic: String, partition: Int32) throws -> Int64? {
        let statement = common.readCheckpoint.sqliteStatement
        defer { sqlite3_reset(statement) }
        try bind(.text(storageKey), at: 1, in: statement, connection: connection)
        try bind(.text(topic), at: 2, in: statement, connection: connection)
        sqlite3_bind_int64(statement, 3, Int64(partition))
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return sqlite3_column_int64(statement, 0)
        case SQLITE_DONE: return nil
        case let code: throw sqliteError(code: code, connection: connection, doing: "reading the checkpoint of \(topic)/\(partition)")
        }
    }

    mutating func addDeadLetters(_ letters: [DeadLetter]) throws {
        let statement = common.addDeadLetter.sqliteStatement
        for letter in letters {
            try bind(.text(storageKey), at: 1, in: statement, connection: connection)
            try bind(.text(letter.topic), at: 2, in: statement, connection: connection)
            sqlite3_bind_int64(statement, 3, Int64(letter.partition))
            sqlite3_bind_int64(statement, 4, letter.offset)
            bindBlob(letter.key, at: 5, in: statement)
            bindBlob(letter.value, at: 6, in: statement)
            try bind(.text(letter.error), at: 7, in: statement, connection: connection)
            try bind(.text(letter.time), at: 8, in: statement, connection: connection)
            try bind(letter.parkKey.map { .text($0) } ?? .null, at: 9, in: statement, connection: connection)
            bindBlob(DeadLetterHeader.encode(letter.headers), at: 10, in: statement)
            try bind(letter.publication.storedValue, at: 11, in: statement, connection: connection)
            try execute(statement, connection: connection, doing: "adding a dead letter")
        }
    }

    mutating func deleteDeadLetters(ids: [Int64]) throws -> Int {
        let statement = common.deleteDeadLetter.sqliteStatement
        var deleted = 0
        for id in ids {
            sqlite3_bind_int64(statement, 1, id)
            try bind(.text(storageKey), at: 2, in: statement, connection: connection)
            try execute(statement, connection: connection, doing: "deleting dead letter \(id)")
            deleted += Int(sqlite3_changes(connection))
        }
        return deleted
    }

    mutating func addCounters(_ deltas: [String: Int64]) throws {
        let statement = common.addCounter.sqliteStatement
        for (name, delta) in deltas {
            try bind(.text(storageKey), at: 1, in: statement, connection: connection)
            try bind(.text(name), at: 2, in: statement, connection: connection)
            sqlite3_bind_int64(statement, 3, delta)
            try execute(statement, connection: connection, doing: "adding to counter \(name)")
        }
    }

    private func bindBlob(_ bytes: [UInt8]?, at index: Int32, in statement: OpaquePointer) {
        guard let bytes else {
            sqlite3_bind_null(statement, index)
            return
        }
        // A zero-length blob, not NULL, for an empty key or value.
        bytes.withUnsafeBytes { buffer in
            _ = sqlite3_bind_blob(statement, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count), sqliteTransient)
        }
    }
}

extension SQLiteViewStore {
    /// Runs `body` in one `BEGIN IMMEDIATE` transaction on the generation's tables, with statements cached for the store's life.
    public func write<Result>(
        pipeline: String, target: ViewTarget, _ body: (inout any ViewTransaction) throws -> Result
    ) throws -> Result {
        try transaction(pipeline: pipeline, target: target, writes: true, body)
    }

    /// Runs `body` in one transaction on the generation's tables: `BEGIN IMMEDIATE` when it
    /// `writes`, else a deferred `BEGIN` that takes no write lock (another connection may write
    /// meanwhile, ``SQLiteViewStore/readShadow(pipeline:_:)``).
    func transaction<Result>(
        pipeline: String, target: ViewTarget, writes: Bool, _ body: (inout any ViewTransaction) throws -> Result
    ) throws -> Result {
        let key = storageKey(pipeline, target)
        return try access(doing: "writing a batch of pipeline \(pipeline)") { db in
            guard let generation = generations[key] else {
                throw ViewStoreError(
                    code: .notPrepared,
                    message: "pipeline \(pipeline) (\(target)) was not prepared on this store; call "
                        + (target == .live ? "prepare" : "prepareShadow") + " before writing")
            }
            let common = try commonStatements(db)
            let fingerprint = try fingerprintStatement(for: key, generation, db)
            let connection = db.sqliteConnection
            try execute((writes ? common.begin : common.beginDeferred).sqliteStatement, connection: connection,
                        doing: "beginning a batch of \(pipeline)")
            do {
                // Under the write lock: another process (a rebuild) may have swapped the views or
                // dropped the shadow since `prepare`. Writing on would mix this worker's offsets
                // with the new tables' checkpoints, so it must re-prepare and seek to them.
                try checkFingerprint(fingerprint, expected: generation.fingerprint, pipeline: pipeline, target: target, connection: connection)
                let tables = try statements(for: key, target: target, generation, db)
                let version = try common.readDataVersion(connection: connection)
                // A shadow another connection of this rebuild writes too keeps its known keys: the
                // keys that connection commits are adopted (`adoptShadowWrites`).
                let keepsKnownKeys = sharedShadows.contains(key)
                for table in tables {
                    if table.knownSince != version && !keepsKnownKeys { table.knownKeys = nil }
                    table.rows.begin(dataVersion: version)
                }
                var transaction: any ViewTransaction = SQLiteViewTransaction(
                    pipeline: pipeline, target: target, storageKey: key, connection: connection, db: db,
                    tables: tables, common: common)
                let result = try body(&transaction)
                try execute(common.commit.sqliteStatement, connection: connection, doing: "committing a batch of \(pipeline)")
                return result
            } catch {
                for table in tableStatements[key] ?? [] { table.rows.rollBack() }
                // A failed COMMIT may already have ended the transaction (https://sqlite.org/lang_transaction.html).
                if sqlite3_get_autocommit(connection) == 0 {
                    try? execute(common.rollback.sqliteStatement, connection: connection, doing: "rolling back")
                }
                throw error
            }
        }
    }

    func fingerprintStatement(for key: String, _ generation: Generation, _ db: Database) throws -> Statement {
        if let cached = fingerprintStatements[key] { return cached }
        let made = try db.makeStatement(sql: fingerprintSQL(key: key, tables: generation.tables))
        fingerprintStatements[key] = made
        return made
    }

    private func checkFingerprint(
        _ statement: Statement, expected: String, pipeline: String, target: ViewTarget, connection: OpaquePointer?
    ) throws {
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        let code = sqlite3_step(handle)
        guard code == SQLITE_ROW else {
            throw sqliteError(code: code, connection: connection, doing: "checking the views of pipeline \(pipeline)")
        }
        let count = Int(sqlite3_column_bytes(handle, 0))
        let matches = sqlite3_column_text(handle, 0).map { bytes in
            expected.utf8.elementsEqual(UnsafeBufferPointer(start: bytes, count: count))
        } ?? expected.isEmpty
        guard matches else {
            throw ViewStoreError(
                code: .generationChanged,
                message: "the \(target) views of pipeline \(pipeline) were replaced (a rebuild swapped them in, or its shadow "
                    + "was dropped) since this store prepared them; prepare again and resume from the stored checkpoints")
        }
    }

    func commonStatements(_ db: Database) throws -> CommonStatements {
        if let common { return common }
        let made = try CommonStatements(db: db)
        common = made
        return made
    }

    func statements(for key: String, target: ViewTarget, _ generation: Generation, _ db: Database) throws -> [TableStatements] {
        if let cached = tableStatements[key] { return cached }
        // One filter for the pipeline's tables: untouched (no memory) unless one of them is empty.
        let filter = KnownKeys.Filter(bytes: configuration.knownKeysKiB << 10)
        // A shadow is written by a rebuild's window, which holds the rows it touches itself.
        let rowCacheBytes = target == .live ? (configuration.rowCacheKiB << 10) / max(generation.tables.count, 1) : 0
        let made = try zip(generation.tables, generation.views).enumerated().map { index, pair in
            try TableStatements(table: pair.0, index: index, definition: pair.1, style: configuration.upsertStyle,
                                knownKeys: filter, rowCacheBytes: rowCacheBytes, db: db)
        }
        tableStatements[key] = made
        return made
    }
}
