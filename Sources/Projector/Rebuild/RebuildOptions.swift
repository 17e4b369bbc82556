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

    /// The part of ``memoryBudget`` for records fetched ahead of the rebuild, librdkafka's own
    /// memory for them included: a quarter, at most 64 MiB. librdkafka bounds the consumer's one
    /// queue that every partition's records go to, in bytes of records (`queued.max.messages.kbytes`)
    /// and in records (`queued.min.messages`), but checks it only before it sends a fetch: each
    /// broker's answer (`fetch.max.bytes`, at least one record batch) lands on top. Each queued
    /// record also holds ~860 bytes of librdkafka's besides its own (heaptrack and massif), so a
    /// bound in bytes alone let the records' bookkeeping grow with their count (a 64 MiB bound of
    /// 200-byte records is ~300,000 records, ~250 MiB). The part is therefore split: record bytes
    /// (``prefetchRecordBytes``), records (``prefetchRecords``) and the size of one fetch answer
    /// (``fetchBytes``), so that on three brokers records of ~200 bytes and their bookkeeping stay
    /// within it. A bound in records used to stall librdkafka 2.0.2 for up to a second each time the
    /// queue filled (issue #2879); the rebuild wakes the fetchers instead once it has read the
    /// queue down (`KafkaConsumer.wakeFetchers`). A `-X` property wins.
    public var prefetchBytes: Int { min(memoryBudget / 4, 64 << 20) }

    /// The bytes of records librdkafka keeps fetched ahead: a quarter of ``prefetchBytes``, at
    /// least 64 KiB (librdkafka: queued.max.messages.kbytes).
    public var prefetchRecordBytes: Int { max(prefetchBytes / 4, 64 << 10) }

    /// The records librdkafka keeps fetched ahead: one per KiB of a quarter of ``prefetchBytes``
    /// (each record costs ~860 bytes of bookkeeping and its own), at least 256
    /// (librdkafka: queued.min.messages).
    public var prefetchRecords: Int { max((prefetchBytes / 4) >> 10, 256) }

    /// The most one fetch answer carries: a thirty-second of ``prefetchBytes`` (its records cost
    /// ~5 times their bytes once queued, and every broker answers), at least 1 MiB (librdkafka
    /// wants at least `message.max.bytes`, 1,000,000 by default; left unset, it takes
    /// `queued.max.messages.kbytes`, up to 50 MiB). A broker answers with at least one record
    /// batch whatever this says (librdkafka: fetch.max.bytes; not set when `-X` sets it or
    /// `message.max.bytes`).
    public var fetchBytes: Int { max(prefetchBytes / 32, 1 << 20) }

    /// The part of ``memoryBudget`` for the SQLite page cache of the store rebuilt: four fifths of
    /// a quarter, at most 64 MiB (the store's default); ``knownKeysBytes`` is the last fifth. The
    /// cache fills as the shadow tables outgrow it, so on a large log it is all used. A second
    /// connection that writes the windows takes seven eighths of it, the rebuild's own the last. `projector
    /// rebuild` opens an SQLite store with it; a caller of ``Rebuild`` sets
    /// `SQLiteViewStore.Configuration.cacheSizeKiB`.
    public var cacheBytes: Int { min(memoryBudget / 4, 80 << 20) / 5 * 4 }

    /// The part of ``memoryBudget`` for the keys known to exist in the shadow tables (reads of
    /// other keys skip SQLite): a quarter of ``cacheBytes``, the fixed-size filter an SQLite store
    /// keeps per pipeline next to its page cache (`SQLiteViewStore.Configuration.knownKeysKiB`).
    public var knownKeysBytes: Int { cacheBytes / 4 }

    /// The part of ``memoryBudget`` for the rows folded between writes: the rest after
    /// ``prefetchBytes``, ``cacheBytes`` and ``knownKeysBytes`` (each at most a quarter
    /// together), so at least half the budget; the four parts add up to the budget. A window holds
    /// half of it (the window's estimate of its rows undercounts their heap); where a full window
    /// is written on a second connection while the next one fills (an SQLite file, a pipeline
    /// without timers), each of the two holds a quarter.
    public var windowBytes: Int { memoryBudget - prefetchBytes - cacheBytes - knownKeysBytes }
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
