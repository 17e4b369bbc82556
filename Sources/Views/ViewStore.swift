public import ProjectorModel

/// Reads a view store: identities, checkpoints, rows, dead letters, counters and digests.
///
/// Everything that only looks at a store (`status`, `verify`, `dlq list`, the read API) needs no
/// more than this, so a read-only connection satisfies it as well as a writer does.
///
/// ## Topics
/// - ``checkpoints(pipeline:target:)``
/// - ``pipelines()``
/// - ``rows(ofView:limit:)``
/// - ``digests(ofViews:pipeline:)``
/// - ``differingKeys(inView:comparedWith:otherView:limit:)``
public protocol ViewStoreReader: AnyObject, Sendable {
    /// The checkpoints of the pipeline's `target` generation, ordered by topic and partition.
    func checkpoints(pipeline: String, target: ViewTarget) throws -> [Checkpoint]

    /// Every pipeline with its identity, views, checkpoints and rebuild in progress.
    func pipelines() throws -> [PipelineStatus]

    /// The rows of a view ordered by primary key, at most `limit` when given.
    func rows(ofView view: String, limit: Int?) throws -> ViewRows

    /// Dead letters ordered by id, of one pipeline or all, at most `limit` when given.
    func deadLetters(pipeline: String?, limit: Int?) throws -> [StoredDeadLetter]

    /// The pipeline's live counters by name.
    func counters(pipeline: String) throws -> [String: Int64]

    /// A deterministic, order-independent, type-exact digest of a view's rows.
    func digest(ofView view: String) throws -> ViewDigest

    /// The pipeline's live checkpoints and the digest of each of `views`, read in ONE snapshot, so
    /// the digests are those of the views exactly at those checkpoints (for `projector verify`).
    func digests(ofViews views: [String], pipeline: String) throws -> (checkpoints: [Checkpoint], digests: [ViewDigest])

    /// The row of `view` with primary key `key` (values in key column order), or `nil`.
    func row(inView view: String, key: [ViewValue]) throws -> [ViewValue]?

    /// Up to `limit` keys whose rows differ between `view` in this store and `otherView` (by
    /// default the same name) in `other` (present in one only, or with any cell of another value
    /// or type), ordered by key.
    ///
    /// `other` may be this store, to compare a live view with its shadow table.
    /// - Throws: ``ViewStoreError`` `.schemaMismatch` when the views' columns or keys differ,
    ///   `.noSuchView` when one is missing, `.unsupported` when `other` is a store of another kind.
    func differingKeys(
        inView view: String, comparedWith other: any ViewStoreReader, otherView: String?, limit: Int
    ) throws -> [[ViewValue]]

    /// The live views of every pipeline, ordered by name, each with its pipeline's live
    /// checkpoints, all read in ONE snapshot (the read API's `GET /views`).
    ///
    /// Internal tables (`_projector_*`) and shadow tables are not views.
    func viewDescriptions() throws -> [ViewDescription]

    /// Reads one page of a live view in ONE snapshot: the view's description with the checkpoints
    /// of that snapshot, the rows, and the cursor of the next page (the read API's rows endpoints).
    ///
    /// A conforming store resolves the query with ``ViewQuery/resolve(against:maxLimit:)`` against
    /// the view's description read in the same snapshot, so a rebuild swapped in between two
    /// reads is seen whole or not at all, and then runs ONE statement built from the
    /// ``ResolvedViewQuery`` with every value bound as a parameter. Rows are ordered by the order
    /// column (SQL order of its values, NULL lowest) and then by the key ascending, or by the key
    /// alone in the query's direction; the page holds at most `limit` rows and continues strictly
    /// after ``ResolvedViewQuery/after`` (keyset pagination, never an offset).
    /// - Throws: ``ViewStoreError`` `.noSuchView` for a name that is not a live view,
    ///   `.invalidQuery` from the resolution.
    func query(_ query: ViewQuery, maxLimit: Int) throws -> ViewPage
}

extension ViewStoreReader {
    /// The pipeline's live checkpoints.
    public func checkpoints(pipeline: String) throws -> [Checkpoint] {
        try checkpoints(pipeline: pipeline, target: .live)
    }

    /// Every row of a view ordered by primary key.
    public func rows(ofView view: String) throws -> ViewRows {
        try rows(ofView: view, limit: nil)
    }

    /// Every dead letter ordered by id.
    public func deadLetters() throws -> [StoredDeadLetter] {
        try deadLetters(pipeline: nil, limit: nil)
    }

    /// Up to `limit` keys whose rows differ between `view` here and the same view in `other`.
    public func differingKeys(inView view: String, comparedWith other: any ViewStoreReader, limit: Int) throws -> [[ViewValue]] {
        try differingKeys(inView: view, comparedWith: other, otherView: nil, limit: limit)
    }
}

/// The store of a pipeline's views, checkpoints, identity, dead letters and counters.
///
/// A worker prepares its pipeline once, then applies every batch in ONE transaction: the rows the
/// batch produced and the checkpoints after it commit together or not at all, which gives the
/// exactly-once effect on views (docs/ARCHITECTURE.md, "Checkpoints in the rows' transaction").
///
/// ```swift
/// let store: any ViewStore = try SQLiteViewStore(path: "views.sqlite")
/// let plan = Plan(try Pipeline.load(path: "pipelines/order_summary.yaml"))
/// let pipeline = plan.pipeline
/// try store.prepare(pipeline: pipeline.name, version: pipeline.version, hash: pipeline.hash, views: plan.views)
/// try store.write(pipeline: pipeline.name) { transaction in
///     let result = try plan.run(messages, rows: &transaction)
///     try transaction.apply(result.changes)
///     try transaction.setCheckpoints([Checkpoint(topic: "orders", partition: 0, nextOffset: 1000)])
/// }
/// ```
///
/// ## Topics
/// - ``prepare(pipeline:version:hash:views:time:)``
/// - ``write(pipeline:target:_:)``
/// - ``prepareShadow(pipeline:version:hash:views:time:)``
/// - ``swap(pipeline:newVersion:newHash:time:)``
/// - ``swap(pipeline:newVersion:newHash:time:lettersReadFrom:finishing:)``
/// - ``dropShadow(pipeline:)``
public protocol ViewStore: ViewStoreReader {
    /// Creates the pipeline's missing tables and records its identity.
    ///
    /// - Parameters:
    ///   - pipeline: The pipeline name, a validated identifier.
    ///   - version: The definition's version.
    ///   - hash: The hash of the normalised definition; it is the pipeline's identity.
    ///   - views: The tables; a view's index in this array is `ViewChange.view` in later writes.
    ///   - time: ISO-8601 creation time; `nil` takes the wall clock.
    /// - Throws: ``ViewStoreError`` `.definitionChanged` when the store holds the pipeline built
    ///   by another hash (run `projector rebuild`), `.viewOwned` when another pipeline or a
    ///   foreign table owns a view name, `.invalidName`/`.invalidDefinition` for bad definitions.
    func prepare(pipeline: String, version: Int, hash: String, views: [ViewDefinition], time: String?) throws

    /// Runs `body` in ONE write transaction on the pipeline's `target` tables and commits it.
    ///
    /// If `body` throws, nothing it wrote is kept (rows, checkpoints, dead letters, counters) and
    /// the error is rethrown unchanged.
    /// - Throws: ``ViewStoreError`` `.notPrepared`; `.generationChanged` when another connection
    ///   swapped in a rebuild (or dropped the shadow) since `prepare`: prepare again and seek to
    ///   the stored checkpoints; `.busy`; or the SQLite failure.
    /// - Important: Call from the writer's thread; the transaction is valid only inside `body`,
    ///   and `body` must not call the store (the connection is busy with the transaction).
    func write<Result>(
        pipeline: String, target: ViewTarget, _ body: (inout any ViewTransaction) throws -> Result
    ) throws -> Result

    /// Prepares (or resumes) a shadow generation of the pipeline's tables for a rebuild.
    ///
    /// A shadow of the same hash is kept (``ShadowPreparation/resumed``, with its checkpoints); a
    /// shadow of another hash is dropped and started again.
    func prepareShadow(
        pipeline: String, version: Int, hash: String, views: [ViewDefinition], time: String?
    ) throws -> ShadowPreparation

    /// In ONE transaction, replaces the live tables with the shadow ones, moves the shadow
    /// checkpoints and counters to live, and records the new identity and `rebuilt_at`.
    ///
    /// Readers see the old views or the new ones, never a mix.
    /// - Throws: ``ViewStoreError`` `.noShadow` when no shadow exists, `.definitionChanged` when
    ///   the shadow was built by another version or hash.
    func swap(pipeline: String, newVersion: Int, newHash: String, time: String?) throws

    /// Like ``swap(pipeline:newVersion:newHash:time:)``, but first runs `finish` in the swap's
    /// transaction, under the store's write lock: it gets a transaction on the shadow tables and
    /// the live checkpoints as no other writer can change them any more, so a rebuild can apply
    /// its last messages and make the shadow checkpoints equal the live ones before the swap.
    ///
    /// `lettersReadFrom` is where the rebuild began reading each partition. A live dead letter at
    /// or after that offset which the shadow does not hold too is dropped: the rebuild applied the
    /// event (a fixed pipeline), or the worker reads it again from the swapped checkpoints (a reset
    /// to an earlier position), so keeping it would let `dlq replay` apply the event twice. Letters
    /// before it, and of partitions not listed, are kept: retention may have taken the message
    /// from Kafka, and the letter is its only copy.
    ///
    /// If `finish` throws, nothing is swapped or written and the error is rethrown unchanged.
    /// - Important: Hold the lock briefly: other writers wait for it up to their busy timeout.
    func swap(
        pipeline: String, newVersion: Int, newHash: String, time: String?, lettersReadFrom: [Checkpoint],
        finishing finish: (inout any ViewTransaction, [Checkpoint]) throws -> Void
    ) throws

    /// Drops the pipeline's shadow generation (tables, checkpoints, counters, dead letters).
    func dropShadow(pipeline: String) throws

    /// Deletes the pipeline's dead letters with these ids without applying them and, in the same
    /// transaction, releases the keys they parked (`dead_letter.park_key`): a key with no letter
    /// left is unparked, one with letters left waits behind the earliest. Returns how many were deleted.
    @discardableResult
    func skipDeadLetters(pipeline: String, ids: [Int64]) throws -> Int

    /// The pipeline's dead letters with an id above `after` not yet produced to its dead-letter
    /// topic, ordered by id, at most `limit`.
    func deadLettersToPublish(pipeline: String, after: Int64, limit: Int) throws -> [StoredDeadLetter]

    /// Marks dead letters as produced to the dead-letter topic (after the broker acknowledged them).
    func markDeadLettersPublished(ids: [Int64]) throws

    /// In ONE transaction, claims the live checkpoints of `partitions` for `owner`: each one's
    /// epoch goes up by one and its owner becomes `owner`; a partition without a checkpoint gets
    /// one at the given `nextOffset` (where reading starts). Returns each partition's stored
    /// checkpoint and new epoch, in the order given.
    func claim(pipeline: String, owner: String, partitions: [Checkpoint]) throws -> [PartitionClaim]

    /// The live checkpoints of the pipeline with the epoch each was last claimed at, ordered by
    /// topic and partition: what the outbox relay compares its worker's claims with before it
    /// produces a partition's records (only the partition's current owner publishes them).
    func claims(pipeline: String) throws -> [PartitionClaim]
}

extension ViewStore {
    /// Prepares the pipeline with the wall clock as creation time.
    public func prepare(pipeline: String, version: Int, hash: String, views: [ViewDefinition]) throws {
        try prepare(pipeline: pipeline, version: version, hash: hash, views: views, time: nil)
    }

    /// Runs `body` in one write transaction on the pipeline's live tables.
    public func write<Result>(
        pipeline: String, _ body: (inout any ViewTransaction) throws -> Result
    ) throws -> Result {
        try write(pipeline: pipeline, target: .live, body)
    }

    /// Prepares (or resumes) a shadow generation with the wall clock as start time.
    @discardableResult
    public func prepareShadow(
        pipeline: String, version: Int, hash: String, views: [ViewDefinition]
    ) throws -> ShadowPreparation {
        try prepareShadow(pipeline: pipeline, version: version, hash: hash, views: views, time: nil)
    }

    /// Swaps the shadow in with the wall clock as `rebuilt_at`.
    public func swap(pipeline: String, newVersion: Int, newHash: String) throws {
        try swap(pipeline: pipeline, newVersion: newVersion, newHash: newHash, time: nil)
    }
}

/// One open write transaction of a pipeline: reads rows for the plan and writes a batch's effects.
///
/// - Important: Valid only inside the `write` body that produced it, on that thread.
public protocol ViewTransaction: RowReader {
    /// The pipeline the transaction writes.
    var pipeline: String { get }
    /// The generation the transaction writes.
    var target: ViewTarget { get }

    /// Upserts each change's whole row, or deletes it when `row` is `nil`.
    /// - Throws: ``ViewStoreError`` `.invalidDefinition` when a change names an unknown view or
    ///   has the wrong number of values, or the SQLite failure.
    mutating func apply(_ changes: [ViewChange]) throws

    /// Whether ``apply(_:)`` writes many rows faster given in each table's key order than in the
    /// order they were touched (each page of an index reached once, in order). A caller whose
    /// keys are distinct may sort them then (a rebuild's window); the default is `false`.
    func writesFasterInKeyOrder() -> Bool

    /// Sets the next offset per topic partition; commits with the rows.
    mutating func setCheckpoints(_ checkpoints: [Checkpoint]) throws

    /// Moves each claimed partition's checkpoint to the offset `checkpoints` gives it, only where
    /// the stored epoch is still the claim's and the stored offset the claim's `nextOffset`.
    /// Returns, for the claims that no longer hold (nothing was written for them), what is stored
    /// now: the stored offset and epoch (-1 when the partition has no checkpoint row). A stored
    /// epoch that is still the claim's means the offset was moved from outside (not by another
    /// worker). The caller must roll the whole transaction back. `claims[i]` is the claim of
    /// `checkpoints[i]`'s partition.
    mutating func advanceCheckpoints(_ checkpoints: [Checkpoint], claims: [PartitionClaim]) throws -> [PartitionClaim]

    /// The next offset stored for a topic partition in this transaction's snapshot (`nil` when none):
    /// read under the write lock, so a worker can fence off a batch another worker overtook.
    mutating func checkpoint(topic: String, partition: Int32) throws -> Int64?

    /// Keeps messages that could not be applied.
    mutating func addDeadLetters(_ letters: [DeadLetter]) throws

    /// The pipeline's dead letters in this transaction's snapshot, ordered by id: read under the
    /// write lock, so a replay sees every letter the worker wrote before it.
    mutating func deadLetters() throws -> [StoredDeadLetter]

    /// Deletes the pipeline's dead letters with these ids (after a replay applied them); returns
    /// how many were deleted.
    @discardableResult
    mutating func deleteDeadLetters(ids: [Int64]) throws -> Int

    /// Adds each delta to the pipeline's counter of that name (created at 0).
    mutating func addCounters(_ deltas: [String: Int64]) throws
}

extension ViewTransaction {
    /// `false`: rows go in the order they were touched unless a store knows better.
    public func writesFasterInKeyOrder() -> Bool { false }
}
