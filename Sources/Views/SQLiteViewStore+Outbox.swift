internal import GRDB
internal import ProjectorModel

extension SQLiteViewStore {
    /// Makes a rebuild publish nothing: before the swap, the shadow outbox (`_projector_outbox_<pipeline>`,
    /// every record the rebuild emitted again) is emptied and given the live outbox's rows, the
    /// records the old generation committed and the relay has not produced yet.
    ///
    /// Records already produced are not in the live table (the relay deletes a row once the broker
    /// acknowledged it), so none is produced twice; pending ones are produced as the definition
    /// that emitted them wrote them. A new definition's emits begin with the first event after the
    /// swap. When the new definition emits nothing, the old one's pending records are dropped with
    /// its tables.
    static func keepPendingEmits(pipeline: String, shadowKey: String, db: Database) throws {
        let outbox = Outbox.tableName(pipeline: pipeline)
        func table(of key: String) throws -> String? {
            try String.fetchOne(
                db, sql: #"SELECT "table_name" FROM "_projector_views" WHERE "pipeline" = ? AND "name" = ?"#, arguments: [key, outbox])
        }
        guard let shadow = try table(of: shadowKey) else { return }
        try db.execute(sql: "DELETE FROM \(quoted(shadow))")
        if let live = try table(of: pipeline) {
            try db.execute(sql: "INSERT INTO \(quoted(shadow)) SELECT * FROM \(quoted(live))")
        }
    }

    /// The number of records in the pipeline's live outbox and their smallest timestamp; nil when
    /// the pipeline has no outbox.
    static func outboxDepth(pipeline: String, db: Database) throws -> (records: Int, oldest: Int64?)? {
        guard let table = try String.fetchOne(
            db, sql: #"SELECT "table_name" FROM "_projector_views" WHERE "pipeline" = ? AND "name" = ?"#,
            arguments: [pipeline, Outbox.tableName(pipeline: pipeline)])
        else { return nil }
        let row = try Row.fetchOne(db, sql: #"SELECT count(*) AS "records", min("timestamp") AS "oldest" FROM "# + quoted(table))
        return (row?["records"] ?? 0, row?["oldest"])
    }
}
