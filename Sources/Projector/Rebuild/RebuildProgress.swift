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
    public var summary: String {
        var line = "rebuild \(pipeline): \(Int(fraction * 100))% (\(events)/\(Int64(events) + remaining)) "
            + "\(Int(eventsPerSecond)) ev/s ETA \(eta.map(Self.clock) ?? "-")"
        var topic: String?
        for partition in partitions {
            if partition.topic != topic {
                line += (topic == nil ? " | " : " ") + partition.topic
                topic = partition.topic
            }
            line += " \(partition.partition):\(Int(partition.fraction * 100))%"
        }
        return line
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
