internal import PostgresNIO
internal import ProjectorModel
internal import Views

extension PostgresViewStore {
    /// As `SQLiteViewStore` does before a swap: the shadow outbox (`_projector_outbox_<pipeline>`,
    /// every record the rebuild emitted again) is emptied and given the live outbox's rows, the
    /// records not produced yet, so a rebuild publishes nothing and loses no committed record.
    func keepPendingEmits(pipeline: String, shadowKey: String, doing: String) throws {
        let outbox = Outbox.tableName(pipeline: pipeline)
        func table(of key: String) throws -> String? {
            try session.query(
                #"SELECT "table_name" FROM "_projector_views" WHERE "pipeline" = $1 AND "name" = $2"#, binds(key, outbox), doing: doing
            ).map(Array.init).first?.first?.text
        }
        guard let shadow = try table(of: shadowKey) else { return }
        _ = try session.execute("DELETE FROM \(quoted(shadow))", doing: doing)
        if let live = try table(of: pipeline) {
            _ = try session.execute("INSERT INTO \(quoted(shadow)) SELECT * FROM \(quoted(live))", doing: doing)
        }
    }

    /// The number of records in the pipeline's live outbox and their smallest timestamp; nil when
    /// the pipeline has no outbox.
    func outboxDepth(pipeline: String) throws -> (records: Int, oldest: Int64?)? {
        let doing = "reading the outbox of \(pipeline)"
        guard let table = try session.query(
            #"SELECT "table_name" FROM "_projector_views" WHERE "pipeline" = $1 AND "name" = $2"#,
            binds(pipeline, Outbox.tableName(pipeline: pipeline)), doing: doing
        ).map(Array.init).first?.first?.text else { return nil }
        let row = try session.query(#"SELECT count(*), min("timestamp") FROM "# + quoted(table), doing: doing).first.map(Array.init)
        return (Int(row?[0].integer ?? 0), row?[1].integer)
    }
}
