/// A cumulative duration histogram in seconds with fixed buckets, for Prometheus' `_bucket`,
/// `_sum` and `_count` series; updated once per batch.
public struct DurationHistogram: Sendable {
    /// The upper bounds of the buckets, in seconds (`+Inf` is implied).
    public static let bounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    /// Observations at or below each bound (not cumulative; the renderer accumulates).
    public private(set) var counts = [UInt64](repeating: 0, count: DurationHistogram.bounds.count + 1)
    /// The sum of the observations, in seconds.
    public private(set) var sum: Double = 0
    /// How many observations.
    public private(set) var count: UInt64 = 0

    /// Creates an empty histogram.
    public init() {}

    /// Adds one observation.
    mutating func observe(_ duration: Duration) {
        let seconds = duration.seconds
        let index = Self.bounds.firstIndex { seconds <= $0 } ?? Self.bounds.count
        counts[index] += 1
        sum += seconds
        count += 1
    }
}
