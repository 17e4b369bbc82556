import Projector
import Testing

/// `--memory` covers the records fetched ahead, the SQLite cache, the known keys and the folded rows, so peak
/// memory stays flat as the log grows (benchmarks/rebuild-scale measures it).
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
        // The rest would be 28 MiB: the window still gets half the budget.
        Split(budget: 64 * mib, prefetch: 16 * mib, cache: 16 * mib, knownKeys: 4 * mib, window: 32 * mib),
        Split(budget: RebuildOptions.defaultMemoryBudget, prefetch: 64 * mib, cache: 64 * mib, knownKeys: 16 * mib, window: 368 * mib),
        Split(budget: 4096 * mib, prefetch: 64 * mib, cache: 64 * mib, knownKeys: 16 * mib, window: 3952 * mib),
        // Below the floors the window still gets half the budget.
        Split(budget: mib, prefetch: 4 * mib, cache: 2 * mib, knownKeys: mib / 2, window: mib / 2),
    ]

    @Test("a budget splits into prefetch, SQLite cache, known keys and window", arguments: splits)
    func split(_ split: Split) {
        let options = RebuildOptions(brokers: "127.0.0.1:9092", memoryBudget: split.budget)
        #expect(options.prefetchBytes == split.prefetch)
        #expect(options.cacheBytes == split.cache)
        #expect(options.knownKeysBytes == split.knownKeys)
        #expect(options.windowBytes == split.window)
    }
}
