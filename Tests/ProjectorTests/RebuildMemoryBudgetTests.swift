import Projector
import Testing

/// `--memory` covers the records fetched ahead (librdkafka's bookkeeping of them included), the SQLite
/// cache, the known keys and the folded rows, so peak memory stays flat as the log grows
/// (benchmarks/rebuild-scale measures it).
@Suite("rebuild memory budget")
struct RebuildMemoryBudgetTests {
    struct Split: Sendable, CustomTestStringConvertible {
        var budget: Int
        var prefetch: Int
        var cache: Int
        var knownKeys: Int
        var window: Int
        var testDescription: String { "\(budget >> 10) KiB" }
    }

    static let mib = 1 << 20
    static let splits: [Split] = [
        Split(budget: 64 * mib, prefetch: 16 * mib, cache: 16 * mib / 5 * 4, knownKeys: 16 * mib / 5, window: 64 * mib - 16 * mib - 16 * mib / 5 * 5),
        Split(budget: RebuildOptions.defaultMemoryBudget, prefetch: 64 * mib, cache: 64 * mib, knownKeys: 16 * mib, window: 368 * mib),
        Split(budget: 4096 * mib, prefetch: 64 * mib, cache: 64 * mib, knownKeys: 16 * mib, window: 3952 * mib),
        Split(budget: mib, prefetch: mib / 4, cache: mib / 4 / 5 * 4, knownKeys: mib / 4 / 5, window: mib - mib / 4 - mib / 4 / 5 * 5),
    ]

    @Test("a budget splits into prefetch, SQLite cache, known keys and window", arguments: splits)
    func split(_ split: Split) {
        let options = RebuildOptions(brokers: "127.0.0.1:9092", memoryBudget: split.budget)
        #expect(options.prefetchBytes == split.prefetch)
        #expect(options.cacheBytes == split.cache)
        #expect(options.knownKeysBytes == split.knownKeys)
        #expect(options.windowBytes == split.window)
    }

    @Test("the parts add up to the budget, the window at least half of it, for any budget")
    func partsAddUp() {
        for budget in [MemorySize.minimum, 3 * Self.mib + 12_345, 64 * Self.mib, 100 * Self.mib + 1, 512 * Self.mib, 8192 * Self.mib] {
            let options = RebuildOptions(brokers: "127.0.0.1:9092", memoryBudget: budget)
            #expect(options.prefetchBytes + options.cacheBytes + options.knownKeysBytes + options.windowBytes == budget, "\(budget)")
            #expect(options.windowBytes >= budget / 2, "\(budget)")
        }
    }

    @Test("the prefetch part bounds record bytes, records at ~1 KiB of bookkeeping each, and one fetch answer")
    func prefetchSplit() {
        let small = RebuildOptions(brokers: "127.0.0.1:9092", memoryBudget: 64 * Self.mib)
        #expect(small.prefetchRecordBytes == 4 * Self.mib)
        #expect(small.prefetchRecords == 4_096)
        #expect(small.fetchBytes == Self.mib)
        let large = RebuildOptions(brokers: "127.0.0.1:9092")
        #expect(large.prefetchRecordBytes == 16 * Self.mib)
        #expect(large.prefetchRecords == 16_384)
        #expect(large.fetchBytes == 2 * Self.mib)
        // The records queued and three brokers' answers on top, ~200-byte records with ~860 bytes
        // of librdkafka's each, stay within the part (below ~128 MiB the 1 MiB floor of an answer
        // does not).
        let records = large.prefetchRecords + 3 * large.fetchBytes / 200
        #expect(records * (200 + 860) <= large.prefetchBytes)
    }
}
