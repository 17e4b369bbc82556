internal import GRDB
internal import Pipelines

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

    private var hashes: Set<UInt64> = []

    /// Whether the key may be in the table (false: certainly not).
    func mightContain(_ key: [ViewValue]) -> Bool { hashes.contains(Self.hash(key)) }

    /// Records a written key; false when the table holds more keys than ``limit``.
    mutating func insert(_ key: [ViewValue]) -> Bool {
        hashes.insert(Self.hash(key))
        return hashes.count <= Self.limit
    }

    /// FNV-1a over each value's type and bytes (text as UTF-8, as the BINARY collation compares).
    static func hash(_ key: [ViewValue]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        func mix(_ word: UInt64) { for shift in stride(from: 0, to: 64, by: 8) { mix(UInt8(truncatingIfNeeded: word >> UInt64(shift))) } }
        for index in key.indices {
            switch key[index] {
            case .null: mix(0 as UInt8)
            case .integer(let v): mix(1 as UInt8); mix(UInt64(bitPattern: v))
            case .real(let v): mix(2 as UInt8); mix(v == 0 ? 0 : v.bitPattern)
            case .text(var text):
                mix(3 as UInt8)
                text.withUTF8 { for byte in $0 { mix(byte) } }
                mix(0xFF as UInt8)
            }
        }
        return hash
    }
}

extension SQLiteViewStore {
    /// The cached statements of a pipeline's live tables, in view order (for tests).
    func cachedTables(pipeline: String) -> [TableStatements] {
        queue.inDatabase { _ in tableStatements[pipeline] ?? [] }
    }
}
