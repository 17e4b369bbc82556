internal import Foundation
internal import GRDB
internal import ProjectorModel

/// The keys written to a table that was empty when this connection prepared its statements: a
/// read of a key never written is answered "absent" without a query. A rebuild from zero or a new
/// pipeline reads mostly keys that do not exist yet (every new order), and each such read is a
/// B-tree descent SQLite need not make (measured: ~4,700 instructions).
///
/// Sound only while this connection is the table's one writer: the store checks SQLite's
/// `data_version` at every batch and forgets the keys after any other connection's commit.
///
/// The keys are kept in a fixed memory, shared by the tables of a pipeline (``Filter``,
/// ``SQLiteViewStore/Configuration/knownKeysKiB``): their hashes exactly while they fit, then bits
/// of a Bloom filter of that size, so it does not grow with the keys written. Once the filter holds
/// many keys for its size some keys never written read "might contain", which costs only the query
/// this saves (as does a deleted key): at 4 MiB and 900,000 keys ~0.3 % of reads of new keys query
/// (two bits a key in one 64-bit word).
struct KnownKeys {
    /// The keys' hashes of one pipeline's tables: a set while it fits the budget (small rebuilds and
    /// new pipelines stay in cache and touch no more memory than their keys need), then the bits
    /// of a Bloom filter of the budget's size, set from the hashes held.
    final class Filter {
        /// The hashes, until more than ``exactLimit`` are known.
        private var exact: Set<UInt64> = []
        /// How many hashes the set holds within the budget (~16 bytes each at its load factor).
        private let exactLimit: Int
        /// The filter's bits, once the set outgrew the budget.
        private var words: UnsafeMutablePointer<UInt64>?
        /// The filter's size in 64-bit words, a power of two.
        private let wordCount: Int
        /// 64 minus the number of bits of a word's index.
        private let shift: UInt64

        /// A filter of `bytes` rounded down to a power of two, at least 64 bytes.
        init(bytes: Int) {
            var count = 8
            while count * 2 * 8 <= bytes { count *= 2 }
            wordCount = count
            exactLimit = count / 2
            shift = UInt64(64 - count.trailingZeroBitCount)
        }

        deinit { words.map { free($0) } }

        /// The word a hash falls in and its two bits there.
        @inline(__always)
        private func place(_ hash: UInt64) -> (word: Int, bits: UInt64) {
            // The high bits pick the word, the low twelve its two bits.
            let word = Int(truncatingIfNeeded: hash >> shift)
            return (word, 1 << (hash & 63) | 1 << ((hash >> 6) & 63))
        }

        func mightContain(_ hash: UInt64) -> Bool {
            guard let words else { return exact.contains(hash) }
            let (word, bits) = place(hash)
            return words[word] & bits == bits
        }

        func insert(_ hash: UInt64) {
            guard let words else {
                exact.insert(hash)
                if exact.count > exactLimit { spill() }
                return
            }
            let (word, bits) = place(hash)
            words[word] |= bits
        }

        /// Moves the hashes into the filter's bits and frees the set.
        private func spill() {
            let bits = calloc(wordCount, 8)!.bindMemory(to: UInt64.self, capacity: wordCount)
            for hash in exact {
                let (word, set) = place(hash)
                bits[word] |= set
            }
            words = bits
            exact = []
        }
    }

    /// The pipeline's filter.
    let filter: Filter
    /// The table's place among the pipeline's, mixed into its keys' hashes.
    let table: Int

    /// Whether the key may be in the table (false: certainly not).
    func mightContain(_ key: [ViewValue]) -> Bool { filter.mightContain(Self.hash(key, table: table)) }

    /// Records a written key.
    func insert(_ key: [ViewValue]) { filter.insert(Self.hash(key, table: table)) }

    /// Mixed into every key's hash: keys come from events, so their hashes must not be chosen.
    private static let seed = UInt64.random(in: .min ... .max)

    /// The key's hash as SQLite's BINARY collation tells keys apart (text by its UTF-8 bytes),
    /// seeded with the table: the change set's cheap identity hash, not a SipHash.
    static func hash(_ key: [ViewValue], table: Int = 0) -> UInt64 {
        ViewValue.identityHash(of: key, seed: seed &+ UInt64(truncatingIfNeeded: table))
    }
}

extension SQLiteViewStore {
    /// The cached statements of a pipeline's live tables, in view order (for tests).
    func cachedTables(pipeline: String) -> [TableStatements] {
        queue.inDatabase { _ in tableStatements[pipeline] ?? [] }
    }
}
