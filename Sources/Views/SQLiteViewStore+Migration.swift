internal import GRDB

extension SQLiteViewStore {
    /// Columns added to `_projector_dead_letters` after its first release, with their SQL types.
    static let addedDeadLetterColumns: [(name: String, type: String)] = [
        ("park_key", "TEXT"), ("headers", "BLOB"), ("published", "INTEGER"),
    ]

    /// Brings a store written by an older release up to the current internal schema: adds the
    /// missing dead-letter columns (NULL in existing rows: no park key, no headers, no topic), the
    /// checkpoints' `owner` and `epoch`, and the index of letters waiting to be published. Idempotent; runs when a writer opens the store.
    static func migrate(_ db: Database) throws {
        let existing = Set(try db.columns(in: "_projector_dead_letters").map(\.name))
        for column in addedDeadLetterColumns where !existing.contains(column.name) {
            try db.execute(sql: "ALTER TABLE \"_projector_dead_letters\" ADD COLUMN \(quoted(column.name)) \(column.type)")
        }
        // Epoch-fenced checkpoints: the claimant and the epoch of its claim (no owner, epoch 0 in existing rows).
        let checkpointColumns = Set(try db.columns(in: "_projector_checkpoints").map(\.name))
        if !checkpointColumns.contains("owner") {
            try db.execute(sql: #"ALTER TABLE "_projector_checkpoints" ADD COLUMN "owner" TEXT"#)
        }
        if !checkpointColumns.contains("epoch") {
            try db.execute(sql: #"ALTER TABLE "_projector_checkpoints" ADD COLUMN "epoch" INTEGER NOT NULL DEFAULT 0"#)
        }
        try db.execute(sql: """
            CREATE INDEX IF NOT EXISTS "_projector_dead_letters_unpublished"
            ON "_projector_dead_letters" ("pipeline", "id") WHERE "published" = 0
            """)
    }

    /// Whether the store's dead-letter table has the columns ``migrate(_:)`` adds: a read-only
    /// reader of a store no writer of this release opened yet reads without them.
    static func hasAddedDeadLetterColumns(_ db: Database) throws -> Bool {
        let existing = Set(try db.columns(in: "_projector_dead_letters").map(\.name))
        return addedDeadLetterColumns.allSatisfy { existing.contains($0.name) }
    }
}
