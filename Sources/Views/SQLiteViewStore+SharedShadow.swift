internal import GRDB
package import ProjectorModel

/// A rebuild's shadow written on a second SQLite connection (WAL: readers and one writer at once).
extension SQLiteViewStore: SharedShadowWrites {
    /// A file in WAL mode: other connections write while this one reads.
    package var canOpenShadowWriter: Bool { path != nil && !configuration.isReadOnly && configuration.usesWAL }

    /// The page cache of this connection while the writer writes: it reads few rows (the window
    /// being written and the known keys answer most), and SQLite empties it after each of the
    /// writer's commits anyway, so the writer gets the rest of the cache's memory.
    private var sharingCacheKiB: Int { max(configuration.cacheSizeKiB / 8, 256) }

    package func openShadowWriter(pipeline: String, version: Int, hash: String, views: [ViewDefinition]) throws -> (any ViewStore)? {
        guard let path, canOpenShadowWriter else { return nil }
        let key = storageKey(pipeline, .shadow)
        // Before the writer prepares: that may commit, and these known keys must outlive it.
        try access(doing: "sharing the shadow of pipeline \(pipeline)") { db in
            sharedShadows.insert(key)
            try db.execute(sql: "PRAGMA cache_size = -\(sharingCacheKiB)")
        }
        do {
            var writing = configuration
            writing.cacheSizeKiB = max(configuration.cacheSizeKiB - sharingCacheKiB, sharingCacheKiB)
            let writer = try SQLiteViewStore(path: path, configuration: writing)
            _ = try writer.prepareShadow(pipeline: pipeline, version: version, hash: hash, views: views, time: nil)
            return writer
        } catch {
            try? closeShadowWriter(pipeline: pipeline)
            throw error
        }
    }

    package func readShadow<Result>(pipeline: String, _ body: (inout any ViewTransaction) throws -> Result) throws -> Result {
        try transaction(pipeline: pipeline, target: .shadow, writes: false, body)
    }

    package func adoptShadowWrites(pipeline: String, _ changes: [ViewChange]) throws {
        let key = storageKey(pipeline, .shadow)
        try access(doing: "adopting the shadow rows of pipeline \(pipeline)") { _ in
            guard let tables = tableStatements[key] else { return }
            for change in changes where change.row != nil && tables.indices.contains(change.view) {
                tables[change.view].knownKeys?.insert(change.key)
            }
        }
    }

    package func closeShadowWriter(pipeline: String) throws {
        let key = storageKey(pipeline, .shadow)
        try access(doing: "closing the shadow writer of pipeline \(pipeline)") { db in
            sharedShadows.remove(key)
            try db.execute(sql: "PRAGMA cache_size = -\(configuration.cacheSizeKiB)")
            // From here another connection's commit drops the known keys again; the writer's count as seen.
            guard let tables = tableStatements[key], let common else { return }
            let version = try common.readDataVersion(connection: db.sqliteConnection)
            for table in tables { table.knownSince = version }
        }
    }
}
