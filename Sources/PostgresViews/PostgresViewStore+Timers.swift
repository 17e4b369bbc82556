internal import PostgresNIO
internal import ProjectorModel
internal import Views

extension PostgresViewStore {
    /// The number of live timers of the pipeline not yet fired; nil when it has no timers table.
    func pendingTimers(pipeline: String) throws -> Int? {
        let doing = "counting the timers of \(pipeline)"
        guard let table = try session.query(
            #"SELECT "table_name" FROM "_projector_views" WHERE "pipeline" = $1 AND "name" = $2"#,
            binds(pipeline, Timers.tableName(pipeline: pipeline)), doing: doing
        ).map(Array.init).first?.first?.text else { return nil }
        let row = try session.query(#"SELECT count(*) FROM "# + quoted(table), doing: doing).first.map(Array.init)
        return Int(row?[0].integer ?? 0)
    }
}
