public import Logging

/// How a rebuild reads and where it stops.
public struct RebuildOptions: Sendable {
    /// The bootstrap servers, `host:port[,host:port]`.
    /// librdkafka: bootstrap.servers
    public var brokers: String
    /// librdkafka properties passed through unchanged (`-X key=value`); they win over defaults.
    public var properties: [String: String]
    /// Build the views as of this position instead of catching up with the live views; `nil`
    /// (default) catches up with the live checkpoints (or the high watermarks when there are none).
    public var until: UntilPosition?
    /// Swap the finished shadow in (default `true`); `false` leaves it for inspection, and a later
    /// rebuild resumes from it.
    public var swaps: Bool
    /// Drop any shadow left by an earlier, interrupted rebuild and start from the earliest offsets
    /// (default `false`: resume from it).
    public var restarts: Bool
    /// The most messages in one batch (one store transaction). Default 10,000.
    public var maxBatchMessages: Int
    /// How long one poll waits for the first message of a batch. Default 100 ms.
    public var pollTimeout: Duration
    /// The longest the last catch-up may hold the store's write lock (live writers wait meanwhile)
    /// before the rebuild lets go, catches up again outside the lock and retries. Default 2 s.
    public var finalCatchUpLimit: Duration
    /// The memory, in bytes, for the records fetched ahead (``prefetchBytes``), the SQLite page
    /// cache (``cacheBytes``), the keys known to exist in the shadow tables (``knownKeysBytes``)
    /// and the rows folded since the last write (``windowBytes``, estimated), which are written
    /// when they fill their part (``RebuildOptions/defaultMemoryBudget``). Each part is bounded, so
    /// peak memory does not grow with the log (benchmarks/rebuild-scale measures it). A larger
    /// window writes a row touched by many events fewer times; a rebuild killed in a window
    /// redoes that window.
    public var memoryBudget: Int
    /// The default ``memoryBudget``: 512 MiB.
    public static let defaultMemoryBudget = 512 << 20

    /// The part of ``memoryBudget`` for records fetched ahead of the rebuild: a quarter, at least
    /// 4 MiB and at most 64 MiB (the live consumer's setting). librdkafka bounds the consumer's
    /// one queue that every partition's records go to, so the bound is of all partitions together,
    /// in bytes of records (`queued.max.messages.kbytes`, this part). Each queued record also holds
    /// librdkafka's bookkeeping (~860 bytes, measured with heaptrack), which the bound does not
    /// count; bounding the records too (`queued.min.messages`) is no remedy: librdkafka 2.0.2 then
    /// pauses fetching for up to a second each time the queue reaches the count (issue #2879) —
    /// measured, a 150,000-event rebuild took 1.4–1.5 s instead of 0.8 s. Below 4 MiB the byte
    /// bound would stall it the same way. A `-X queued.max.messages.kbytes=…` wins.
    public var prefetchBytes: Int { min(max(memoryBudget / 4, 4 << 20), 64 << 20) }

    /// The part of ``memoryBudget`` for the SQLite page cache of the store rebuilt: a quarter, at
    /// least 2 MiB and at most 64 MiB (the store's default). The cache fills as the shadow tables
    /// outgrow it, so on a large log it is all used. `projector rebuild` opens an SQLite store
    /// with it; a caller of ``Rebuild`` sets `SQLiteViewStore.Configuration.cacheSizeKiB`.
    public var cacheBytes: Int { min(max(memoryBudget / 4, 2 << 20), 64 << 20) }

    /// The part of ``memoryBudget`` for the keys known to exist in the shadow tables (reads of
    /// other keys skip SQLite): a quarter of ``cacheBytes``, the fixed-size filter an SQLite store
    /// keeps per pipeline next to its page cache (`SQLiteViewStore.Configuration.knownKeysKiB`).
    public var knownKeysBytes: Int { cacheBytes / 4 }

    /// The part of ``memoryBudget`` for the rows folded between writes: the rest after
    /// ``prefetchBytes``, ``cacheBytes`` and ``knownKeysBytes``, at least half the budget.
    public var windowBytes: Int { max(memoryBudget - prefetchBytes - cacheBytes - knownKeysBytes, memoryBudget / 2) }
    /// Where the rebuild logs, with the pipeline as metadata; see ``WorkerConfiguration/logger``.
    public var logger = Logger(label: "projector.runtime")

    /// Creates options with the documented defaults.
    public init(
        brokers: String, properties: [String: String] = [:], until: UntilPosition? = nil, swaps: Bool = true,
        restarts: Bool = false, maxBatchMessages: Int = 10_000, pollTimeout: Duration = .milliseconds(100),
        finalCatchUpLimit: Duration = .seconds(2), memoryBudget: Int = RebuildOptions.defaultMemoryBudget
    ) {
        self.memoryBudget = memoryBudget
        self.brokers = brokers
        self.properties = properties
        self.until = until
        self.swaps = swaps
        self.restarts = restarts
        self.maxBatchMessages = maxBatchMessages
        self.pollTimeout = pollTimeout
        self.finalCatchUpLimit = finalCatchUpLimit
    }
}
