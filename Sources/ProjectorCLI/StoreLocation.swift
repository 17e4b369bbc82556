import Projector
import Views

/// Opens the view store a `--db` value names, or exits 1 with the store's message.
///
/// Every command opens its store here and then uses only the store protocols, so another kind of
/// store is one more case in this function. Writers wait up to a minute (by default) for the write
/// lock: several pipelines of one process (or several processes) share one SQLite file and take
/// turns, one batch transaction at a time; past the timeout a write fails with `.busy`.
func openStore(_ location: String, readOnly: Bool = false, busyTimeout: Duration = .seconds(60)) throws -> any ViewStore {
    do {
        return try SQLiteViewStore(path: location, configuration: .init(isReadOnly: readOnly, busyTimeout: busyTimeout))
    } catch {
        throw failure(ProjectorError(code: .database, message: "\(error)"))
    }
}

/// Opens a new store at `path` for a rebuild nobody reads until it is compared (`verify`): no
/// fsync, since a crash only loses the scratch copy.
func openScratchStore(_ path: String) throws -> any ViewStore {
    do {
        return try SQLiteViewStore(path: path, configuration: .init(synchronous: .off))
    } catch {
        throw failure(ProjectorError(code: .database, message: "the scratch store: \(error)"))
    }
}

/// Opens `count` read-only connections to the store a `--db` value names, for the read API (each
/// reads in its own snapshots; SQLite opens them read-only, so no request can write).
func openReadStores(_ location: String, count: Int = 2) throws -> [any ViewStoreReader] {
    do {
        return try (0 ..< count).map { _ in try SQLiteViewStore(path: location, configuration: .init(isReadOnly: true)) }
    } catch {
        throw failure(ProjectorError(code: .database, message: "\(error)"))
    }
}
