/// The bounds of the read API: what one request may ask for and how many may wait at once.
public struct ReadLimits: Sendable, Hashable {
    /// Rows of a page when the request gives no `limit`. Default 50.
    public var defaultPageSize: Int
    /// The largest `limit` accepted; more is a 400. Default 1000.
    public var maxPageSize: Int
    /// The longest `Prefer: wait=N` accepted; more is a 400. Default 30 s.
    public var maxWait: Duration
    /// Requests waiting for a position at once; one more gets 429. Default 64.
    public var maxConcurrentWaits: Int
    /// How often a waiting request reads the store's checkpoints. Default 5 ms: one indexed read
    /// of a few rows, against a wait that lasts as long as a batch commit.
    public var pollInterval: Duration

    /// Creates limits.
    public init(defaultPageSize: Int = 50, maxPageSize: Int = 1000, maxWait: Duration = .seconds(30),
                maxConcurrentWaits: Int = 64, pollInterval: Duration = .milliseconds(5)) {
        self.defaultPageSize = defaultPageSize
        self.maxPageSize = maxPageSize
        self.maxWait = maxWait
        self.maxConcurrentWaits = maxConcurrentWaits
        self.pollInterval = pollInterval
    }
}
