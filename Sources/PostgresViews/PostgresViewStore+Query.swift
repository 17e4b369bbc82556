public import ProjectorModel
public import Views

extension PostgresViewStore {
    /// Not served from PostgreSQL yet: the read API (`GET /views`) reads SQLite stores. On
    /// PostgreSQL the views are plain tables that any SQL client (psql, an ORM) reads directly,
    /// with the checkpoints in `_projector_checkpoints`.
    /// - Throws: ``ViewStoreError`` `.invalidQuery`, always.
    public func viewDescriptions() throws -> [ViewDescription] {
        throw Self.readAPIUnavailable
    }

    /// Not served from PostgreSQL yet; see ``viewDescriptions()``.
    /// - Throws: ``ViewStoreError`` `.invalidQuery`, always.
    public func query(_ query: ViewQuery, maxLimit: Int) throws -> ViewPage {
        throw Self.readAPIUnavailable
    }

    private static var readAPIUnavailable: ViewStoreError {
        ViewStoreError(code: .invalidQuery, message: "the read API reads SQLite stores; on PostgreSQL query the view tables with any SQL client")
    }
}
