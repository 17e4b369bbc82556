internal import GRDB
internal import ProjectorModel

/// The keys written to a table that was empty when this connection prepared its statements, as
/// 64-bit hashes: a read of a key never written is answered "absent" without a query. A rebuild
/// from zero or a new pipeline reads mostly keys that do not exist yet (every new order), and
/// each such read is a B-tree descent SQLite need not make (measured: ~4,700 instructions).
///
/// Sound only while this connection is the table's one writer: the store checks SQLite's
/// `data_version` at every batch and forgets the keys after any other connection's commit.
/// Hash collisions and deleted keys only cost a query. Past ``limit`` keys the table goes back
/// to querying every read, so memory stays bounded (~12 bytes a key).
struct KnownKeys {
    static let limit = 4_000_000

    private var hashes: Set<Int> = []

    /// Whether the key may be in the table (false: certainly not).
    func mightContain(_ key: [ViewValue]) -> Bool { hashes.contains(Self.hash(key)) }

    /// Records a written key; false when the table holds more keys than ``limit``.
    mutating func insert(_ key: [ViewValue]) -> Bool {
        hashes.insert(Self.hash(key))
        return hashes.count <= Self.limit
    }

    /// Mixed into every key's hash: keys come from events, so their hashes must not be chosen.
    private static let seed = UInt64.random(in: .min ... .max)

    /// The key's hash as SQLite's BINARY collation tells keys apart (text by its UTF-8 bytes):
    /// the change set's cheap identity hash, not a second SipHash of every key read and written.
    static func hash(_ key: [ViewValue]) -> Int {
        Int(truncatingIfNeeded: ViewValue.identityHash(of: key, seed: seed))
    }
}

extension SQLiteViewStore {
    /// The cached statements of a pipeline's live tables, in view order (for tests).
    func cachedTables(pipeline: String) -> [TableStatements] {
        queue.inDatabase { _ in tableStatements[pipeline] ?? [] }
    }
}
