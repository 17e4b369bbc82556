/// How far a rebuild got: per partition and in total, against the end it reads to.
public struct RebuildProgress: Sendable {
    /// One source partition.
    public struct Partition: Sendable, Hashable {
        /// The topic.
        public var topic: String
        /// The partition.
        public var partition: Int32
        /// Where this run started reading it.
        public var start: Int64
        /// The next offset the shadow will apply.
        public var position: Int64
        /// The offset the rebuild reads up to (live checkpoint, high watermark or `--until`).
        public var end: Int64

        /// The share done in this run, 0...1 (1 when there was nothing to read).
        public var fraction: Double {
            end > start ? Double(min(max(position - start, 0), end - start)) / Double(end - start) : 1
        }
    }

    /// The pipeline.
    public var pipeline: String
    /// Every source partition, ordered by topic and partition.
    public var partitions: [Partition]
    /// Messages applied in this run.
    public var events: Int
    /// Time since this run started.
    public var elapsed: Duration

    /// Messages left to read over all partitions.
    public var remaining: Int64 { partitions.reduce(0) { $0 + max($1.end - max($1.position, $1.start), 0) } }

    /// The share done over all partitions, 0...1.
    public var fraction: Double {
        let total = partitions.reduce(Int64(0)) { $0 + max($1.end - $1.start, 0) }
        return total > 0 ? max(0, min(1, 1 - Double(remaining) / Double(total))) : 1
    }

    /// Applied messages per second in this run.
    public var eventsPerSecond: Double {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return seconds > 0 ? Double(events) / seconds : 0
    }

    /// The estimated time left, or nil before there is a rate: the pace fitted over the run so
    /// far as it changed with progress (RebuildProgress+Estimate.swift), not a constant-rate
    /// extrapolation.
    public var eta: Duration?

    /// One line: total, rate and ETA, then each partition's percentage, e.g.
    /// `rebuild orders: 61% (122000/200000) 45210 ev/s ETA 0:02.4 | orders 0:100% 1:53%`.
    ///
    /// Past 16 partitions a line naming each would wrap a terminal many times
    /// (2,500 partitions: ~25,000 characters), so each topic shows how many of its partitions are
    /// done and its least advanced ones, e.g. `| orders 1731/2500 done, behind: 2031:0% 2032:1% … +761`.
    public var summary: String {
        var line = "rebuild \(pipeline): \(Int(fraction * 100))% (\(events)/\(Int64(events) + remaining)) "
            + "\(Int(eventsPerSecond)) ev/s ETA \(eta.map(Self.clock) ?? "-")"
        var first = partitions.startIndex
        while first < partitions.endIndex {
            let topic = partitions[first].topic
            let end = partitions[first...].firstIndex { $0.topic != topic } ?? partitions.endIndex
            line += (first == partitions.startIndex ? " | " : " ") + topic
                + Self.shares(partitions[first..<end], listing: partitions.count <= Self.listedPartitions)
            first = end
        }
        return line
    }

    /// The most partitions ``summary`` lists one by one; past it, it lists the least advanced.
    static let listedPartitions = 16

    /// One topic's part of ``summary``: every partition's share when `listing`, else the count
    /// done and the ``listedPartitions`` / 2 least advanced of the others.
    private static func shares(_ topic: ArraySlice<Partition>, listing: Bool) -> String {
        func share(_ partition: Partition) -> String { " \(partition.partition):\(Int(partition.fraction * 100))%" }
        if listing { return topic.map(share).joined() }
        let behind = topic.filter { $0.fraction < 1 }
        var text = " \(topic.count - behind.count)/\(topic.count) done"
        guard !behind.isEmpty else { return text }
        let shown = listedPartitions / 2
        let least = behind.sorted { ($0.fraction, $0.partition) < ($1.fraction, $1.partition) }.prefix(shown)
        text += ", behind:" + least.map(share).joined()
        if behind.count > shown { text += " … +\(behind.count - shown)" }
        return text
    }

    /// `0:ss.t` under a minute (whole seconds alone would be 10 % off on a 10-second rebuild),
    /// else `m:ss` or `h:mm:ss`.
    static func clock(_ duration: Duration) -> String {
        let total = Int(duration.components.seconds)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        if total < 60 {
            let tenths = min(Int((Double(duration.components.attoseconds) / 1e17).rounded(.down)), 9)
            return "0:\(two(total)).\(tenths)"
        }
        return total >= 3600 ? "\(total / 3600):\(two(total % 3600 / 60)):\(two(total % 60))" : "\(total / 60):\(two(total % 60))"
    }
}
