public import Views

/// `projector reset`: the in-place reset users of other tools expect, without ever leaving views
/// that mix two positions.
///
/// - ``toEarliest(projection:store:)`` empties the views and drops the checkpoints (dead letters
///   are kept): the next `run` starts from the earliest offsets.
/// - A reset to offsets or to a time is a ``Rebuild`` into place with ``RebuildOptions/until``:
///   the views and checkpoints become exactly those as of that position, swapped in one
///   transaction (see `projector reset --help`).
///
/// - Important: Stop the pipeline's workers first: a running worker goes on from the position it
///   holds in memory, not from the reset checkpoints.
public enum Reset {
    /// Empties the pipeline's views, checkpoints and counters in one transaction (an empty shadow
    /// swapped in), recording `projection` as the definition of the now empty views.
    /// - Throws: ``ProjectorError`` `.database`.
    public static func toEarliest(projection: any Projection, store: any ViewStore) throws(ProjectorError) {
        let name = projection.name
        do {
            try store.dropShadow(pipeline: name)
            try store.prepareShadow(pipeline: name, version: projection.version, hash: projection.definitionHash,
                                    views: projection.views)
            try store.swap(pipeline: name, newVersion: projection.version, newHash: projection.definitionHash)
        } catch {
            throw ProjectorError(wrapping: error, doing: "reset \(name)")
        }
    }
}
