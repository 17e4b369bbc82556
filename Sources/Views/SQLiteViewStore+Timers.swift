internal import GRDB
internal import ProjectorModel

extension SQLiteViewStore {
    /// The number of live timers of the pipeline not yet fired; nil when it has no timers table.
    static func pendingTimers(pipeline: String, db: Database) throws -> Int? {
        guard let table = try String.fetchOne(
            db, sql: #"SELECT "table_name" FROM "_projector_views" WHERE "pipeline" = ? AND "name" = ?"#,
            arguments: [pipeline, Timers.tableName(pipeline: pipeline)])
        else { return nil }
        return try Int.fetchOne(db, sql: "SELECT count(*) FROM " + quoted(table)) ?? 0
    }
}
