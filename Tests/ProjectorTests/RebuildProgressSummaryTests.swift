@testable import Projector
import Testing

/// The progress line's text (``RebuildProgress/summary``): every partition while there are few,
/// the count done and the least advanced ones past that, so a rebuild of thousands of partitions
/// keeps a line a terminal can show.
@Suite("rebuild progress summary")
struct RebuildProgressSummaryTests {
    static func progress(_ topics: [(name: String, shares: [Int64])]) -> RebuildProgress {
        let partitions = topics.flatMap { topic in
            topic.shares.enumerated().map { index, share in
                RebuildProgress.Partition(topic: topic.name, partition: Int32(index), start: 0, position: share, end: 100)
            }
        }
        let events = Int(partitions.reduce(0) { $0 + $1.position })
        return RebuildProgress(pipeline: "orders", partitions: partitions, events: events, elapsed: .seconds(2), eta: .seconds(3))
    }

    @Test("a few partitions are listed one by one, topic by topic")
    func fewPartitionsListed() {
        let line = Self.progress([("orders", [100, 50, 0]), ("payments", [25])]).summary
        #expect(line == "rebuild orders: 43% (175/400) 87 ev/s ETA 0:03.0 | orders 0:100% 1:50% 2:0% payments 0:25%")
    }

    @Test("past sixteen partitions each topic shows how many are done and its eight least advanced, with how many more are behind")
    func manyPartitionsSummarized() {
        var shares: [Int64] = Array(repeating: 100, count: 30)
        shares += [90, 10, 70, 0, 50, 30, 20, 80, 60, 40, 5]
        let line = Self.progress([("orders", shares), ("payments", Array(repeating: 100, count: 3))]).summary
        #expect(line.hasSuffix(
            " | orders 30/41 done, behind: 33:0% 40:5% 31:10% 36:20% 35:30% 39:40% 34:50% 38:60% … +3 payments 3/3 done"), "\(line)")
    }

    @Test("a rebuild of 2,500 partitions keeps its line short")
    func thousandsOfPartitionsFitALine() {
        let shares = (0 ..< 2_500).map { Int64($0 % 101) }
        let line = Self.progress([("scale", shares)]).summary
        #expect(line.count < 200, "\(line.count) characters: \(line)")
        #expect(line.contains(" | scale 24/2500 done, behind: 0:0% 101:0% "), "\(line)")
    }
}
