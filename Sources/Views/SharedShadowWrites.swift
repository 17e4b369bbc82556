package import ProjectorModel

/// A store on which a rebuild can write one window of its shadow on a second connection while it
/// reads the rows of the next window on the first, so that the two cores share the work.
///
/// The rebuild reads through the window being written (it holds those rows' final state) before
/// the store, so what the second connection has or has not committed yet never shows. What the
/// store must add: reads that take no write lock (``readShadow(pipeline:_:)``), and keys the
/// first connection knows absent without a query (``SQLiteViewStore``'s known keys) kept across
/// the second connection's commits, with the keys it wrote adopted
/// (``adoptShadowWrites(pipeline:_:)``) once the rebuild knows its write committed.
package protocol SharedShadowWrites: ViewStore {
    /// Whether ``openShadowWriter(pipeline:version:hash:views:)`` can open a second connection.
    var canOpenShadowWriter: Bool { get }

    /// Opens a second connection to the store with the pipeline's shadow prepared on it, or nil
    /// when the store has no second connection to give (an in-memory store). Until
    /// ``closeShadowWriter(pipeline:)``, this store keeps its known keys of the shadow across
    /// commits of other connections: only the returned one may write the shadow meanwhile.
    func openShadowWriter(pipeline: String, version: Int, hash: String, views: [ViewDefinition]) throws -> (any ViewStore)?

    /// Runs `body` in one transaction on the pipeline's shadow that takes no write lock: for
    /// reading rows (``RowReader``) while the shadow writer writes.
    func readShadow<Result>(pipeline: String, _ body: (inout any ViewTransaction) throws -> Result) throws -> Result

    /// Records that the shadow writer committed `changes`: their keys are known to exist.
    func adoptShadowWrites(pipeline: String, _ changes: [ViewChange]) throws

    /// Ends what ``openShadowWriter(pipeline:version:hash:views:)`` began, once the writer's last
    /// write was adopted: other connections' commits drop the known keys again.
    func closeShadowWriter(pipeline: String) throws
}
