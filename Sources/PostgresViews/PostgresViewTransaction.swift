internal import PostgresNIO
internal import ProjectorModel
public import Views

/// The PostgreSQL store's open batch transaction.
///
/// Writes go per table in at most two statements per ``apply(_:)`` (one multi-row upsert, one
/// multi-row delete, each binding a column as one array), checkpoints and counters in one each:
/// a batch costs a handful of round trips however many rows it changes. Within one call the
/// last change of a key wins, as it would applied in order (PostgreSQL refuses an upsert that
/// touches one row twice). Changes that write some columns of a row (``ViewChange/assignedColumns``)
/// take one more upsert per set of columns.
///
/// - Important: Lives only inside ``PostgresViewStore/write(pipeline:target:_:)``'s body.
struct PostgresViewTransaction: ViewTransaction {
    let pipeline: String
    let target: ViewTarget
    /// The pipeline key in the internal tables (`name` or `name@shadow`).
    let storageKey: String
    let session: PostgresSession
    let tables: [TableSQL]
    /// Rows read ahead by ``prefetch(_:)`` (`nil` for a key with no row), each taken out when
    /// ``row(in:key:)`` answers it and all dropped by ``apply(_:)``: never older than the last write.
    var prefetched: [PrefetchedKey: [ViewValue]?] = [:]

    func table(_ view: Int) throws -> TableSQL {
        guard tables.indices.contains(view) else {
            throw ViewStoreError(
                code: .invalidDefinition,
                message: "pipeline \(pipeline) has \(tables.count) tables but a change names table #\(view); "
                    + "prepare the store with the plan's views")
        }
        return tables[view]
    }

    func checkKey(_ key: [ViewValue], of table: TableSQL) throws {
        guard key.count == table.keyColumns.count else {
            throw ViewStoreError(
                code: .invalidDefinition,
                message: "a key of \(table.name) has \(key.count) values but the table's key has \(table.keyColumns.count)")
        }
    }

    mutating func row(in view: Int, key: [ViewValue]) throws -> [ViewValue]? {
        let table = try table(view)
        try checkKey(key, of: table)
        // Key columns are NOT NULL: no row has a null key.
        if key.contains(.null) { return nil }
        if let row = prefetched.removeValue(forKey: PrefetchedKey(view: view, key: key)) { return row }
        session.rowReads += 1
        var bindings = PostgresBindings(capacity: key.count)
        for (value, column) in zip(key, table.keyColumns) {
            try bindings.append(ColumnArray.Scalar(value: value, type: table.types[column]))
        }
        guard let row = try session.query(table.select, bindings, doing: "reading a row of \(table.name)").first else { return nil }
        return try row.map { try $0.viewValue(table: table.name) }
    }

    mutating func apply(_ changes: [ViewChange]) throws {
        prefetched.removeAll()
        // Per table: the last change of each key, split into rows to upsert and keys to delete.
        var latest: [[[ViewValue]: Int]] = Array(repeating: [:], count: tables.count)
        for index in changes.indices {
            let table = try table(changes[index].view)
            if let count = changes[index].row?.count, count != table.columnCount {
                throw ViewStoreError(
                    code: .invalidDefinition,
                    message: "a row of \(table.name) has \(count) values but the table has \(table.columnCount) columns")
            }
            latest[changes[index].view][changes[index].key] = index
        }
        for (view, table) in tables.enumerated() where !latest[view].isEmpty {
            var upserts: [UInt64: [[ViewValue]]] = [:]
            var deletes: [[ViewValue]] = []
            for index in latest[view].values.sorted() {
                if let row = changes[index].row {
                    upserts[changes[index].assignedColumns ?? .max, default: []].append(row)
                } else {
                    try checkKey(changes[index].key, of: table)
                    deletes.append(changes[index].key)
                }
            }
            for (assigned, rows) in upserts.sorted(by: { $0.key > $1.key }) {
                var bindings = PostgresBindings(capacity: table.columnCount)
                for column in 0..<table.columnCount {
                    try bindings.append(ColumnArray(values: .column(rows, column: column, type: table.types[column])))
                }
                let sql = assigned == .max ? table.upsert : table.upsertAssigning(assigned)
                try session.execute(sql, bindings, doing: "upserting \(rows.count) rows of \(table.name)")
            }
            if !deletes.isEmpty {
                var bindings = PostgresBindings(capacity: table.keyColumns.count)
                for (position, column) in table.keyColumns.enumerated() {
                    try bindings.append(ColumnArray(values: .column(deletes, column: position, type: table.types[column])))
                }
                try session.execute(table.delete, bindings, doing: "deleting \(deletes.count) rows of \(table.name)")
            }
        }
    }

    mutating func setCheckpoints(_ checkpoints: [Checkpoint]) throws {
        guard !checkpoints.isEmpty else { return }
        try session.execute(
            """
            INSERT INTO "_projector_checkpoints" ("pipeline", "topic", "partition", "next_offset")
            SELECT $1, * FROM unnest($2::text[], $3::integer[], $4::bigint[])
            ON CONFLICT ("pipeline", "topic", "partition") DO UPDATE SET "next_offset" = excluded."next_offset"
            """,
            binds(storageKey, checkpoints.map(\.topic), checkpoints.map(\.partition), checkpoints.map(\.nextOffset)),
            doing: "setting the checkpoints of pipeline \(pipeline)")
    }

    mutating func advanceCheckpoints(_ checkpoints: [Checkpoint], claims: [PartitionClaim]) throws -> [PartitionClaim] {
        guard !checkpoints.isEmpty else { return [] }
        // One statement for every partition of the batch; the rows it moved come back.
        let moved = try session.query(
            """
            UPDATE "_projector_checkpoints" AS stored SET "next_offset" = claimed."to"
            FROM unnest($2::text[], $3::integer[], $4::bigint[], $5::bigint[], $6::bigint[])
                AS claimed("topic", "partition", "epoch", "from", "to")
            WHERE stored."pipeline" = $1 AND stored."topic" = claimed."topic" AND stored."partition" = claimed."partition"
            AND stored."epoch" = claimed."epoch" AND stored."next_offset" = claimed."from"
            RETURNING stored."topic", stored."partition"
            """,
            binds(
                storageKey, claims.map(\.topic), claims.map(\.partition), claims.map(\.epoch), claims.map(\.nextOffset),
                checkpoints.map(\.nextOffset)),
            doing: "advancing the checkpoints of pipeline \(pipeline)"
        ).map { row in
            let cells = Array(row)
            return "\(cells[1].integer ?? -1)/\(cells[0].text ?? "")"
        }
        let lost = claims.filter { !moved.contains("\($0.partition)/\($0.topic)") }
        guard !lost.isEmpty else { return [] }
        // Rare (a zombie, or an edit from outside): what is stored now, one query for all of them.
        let stored = try session.query(
            """
            SELECT stored."topic", stored."partition", stored."next_offset", stored."epoch" FROM "_projector_checkpoints" AS stored
            JOIN unnest($2::text[], $3::integer[]) AS lost("topic", "partition")
            ON stored."topic" = lost."topic" AND stored."partition" = lost."partition"
            WHERE stored."pipeline" = $1
            """,
            binds(storageKey, lost.map(\.topic), lost.map(\.partition)),
            doing: "reading the lost claims of pipeline \(pipeline)"
        ).reduce(into: [String: (Int64, Int64)]()) { found, row in
            let cells = Array(row)
            found["\(cells[1].integer ?? -1)/\(cells[0].text ?? "")"] = (cells[2].integer ?? -1, cells[3].integer ?? -1)
        }
        return lost.map { claim in
            let now = stored["\(claim.partition)/\(claim.topic)"]
            return PartitionClaim(topic: claim.topic, partition: claim.partition, nextOffset: now?.0 ?? -1, epoch: now?.1 ?? -1)
        }
    }

    mutating func checkpoint(topic: String, partition: Int32) throws -> Int64? {
        try session.query(
            """
            SELECT "next_offset" FROM "_projector_checkpoints" WHERE "pipeline" = $1 AND "topic" = $2 AND "partition" = $3
            """,
            binds(storageKey, topic, partition), doing: "reading the checkpoint of \(topic)/\(partition)"
        ).first.flatMap { Array($0)[0].integer }
    }

    mutating func addDeadLetters(_ letters: [DeadLetter]) throws {
        guard !letters.isEmpty else { return }
        var bindings = try binds(
            storageKey, letters.map(\.topic), letters.map(\.partition), letters.map(\.offset))
        try bindings.append(ColumnArray(values: .bytes(letters.map(\.key))))
        try bindings.append(ColumnArray(values: .bytes(letters.map(\.value))))
        bindings.append(letters.map(\.error))
        bindings.append(letters.map(\.time))
        try bindings.append(ColumnArray(values: .texts(letters.map(\.parkKey))))
        try bindings.append(ColumnArray(values: .bytes(letters.map { DeadLetterHeader.encode($0.headers) })))
        try bindings.append(ColumnArray(values: .texts(letters.map { letter in
            if case .integer(let value) = letter.publication.storedValue { String(value) } else { nil }
        })))
        try session.execute(
            """
            INSERT INTO "_projector_dead_letters"
            ("pipeline", "topic", "partition", "offset", "key", "value", "error", "time", "park_key", "headers", "published")
            SELECT $1, "topic", "partition", "offset", "key", "value", "error", "time", "park_key", "headers", "published"::integer
            FROM unnest($2::text[], $3::integer[], $4::bigint[], $5::bytea[], $6::bytea[], $7::text[], $8::text[], $9::text[],
                $10::bytea[], $11::text[]) WITH ORDINALITY
                AS letter("topic", "partition", "offset", "key", "value", "error", "time", "park_key", "headers", "published", "n")
            ORDER BY "n"
            """,
            bindings, doing: "adding \(letters.count) dead letters")
    }

    mutating func deadLetters() throws -> [StoredDeadLetter] {
        try PostgresViewStore.fetchDeadLetters(session, pipeline: storageKey, pendingAfter: nil, limit: nil)
    }

    mutating func deleteDeadLetters(ids: [Int64]) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try session.execute(
            #"DELETE FROM "_projector_dead_letters" WHERE "pipeline" = $1 AND "id" = ANY($2::bigint[])"#,
            binds(storageKey, ids), doing: "deleting dead letters")
    }

    mutating func addCounters(_ deltas: [String: Int64]) throws {
        guard !deltas.isEmpty else { return }
        let names = Array(deltas.keys)
        try session.execute(
            """
            INSERT INTO "_projector_counters" ("pipeline", "name", "value")
            SELECT $1, * FROM unnest($2::text[], $3::bigint[])
            ON CONFLICT ("pipeline", "name") DO UPDATE SET "value" = "_projector_counters"."value" + excluded."value"
            """,
            binds(storageKey, names, names.map { deltas[$0]! }), doing: "adding to the counters of pipeline \(pipeline)")
    }
}

extension PostgresViewStore {
    /// Runs `body` in one transaction on the generation's tables, after taking the pipeline key's
    /// advisory lock and checking that the generation is still the one prepared.
    public func write<Result>(
        pipeline: String, target: ViewTarget, _ body: (inout any ViewTransaction) throws -> Result
    ) throws -> Result {
        let key = storageKey(pipeline, target)
        return try access {
            guard let generation = generations[key] else {
                throw ViewStoreError(
                    code: .notPrepared,
                    message: "pipeline \(pipeline) (\(target)) was not prepared on this store; call "
                        + (target == .live ? "prepare" : "prepareShadow") + " before writing")
            }
            return try transaction(locking: [key], doing: "writing a batch of pipeline \(pipeline)") {
                // Under the lock: another process (a rebuild) may have swapped the views or
                // dropped the shadow since `prepare`. Writing on would mix this worker's offsets
                // with the new tables' checkpoints, so it must re-prepare and seek to them.
                guard try fingerprint(key: key, tables: generation.tables) == generation.fingerprint else {
                    throw ViewStoreError(
                        code: .generationChanged,
                        message: "the \(target) views of pipeline \(pipeline) were replaced (a rebuild swapped them in, or its shadow "
                            + "was dropped) since this store prepared them; prepare again and resume from the stored checkpoints")
                }
                var transaction: any ViewTransaction = PostgresViewTransaction(
                    pipeline: pipeline, target: target, storageKey: key, session: session, tables: generation.statements)
                return try body(&transaction)
            }
        }
    }
}
