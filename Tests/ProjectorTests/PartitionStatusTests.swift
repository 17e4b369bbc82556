import Projector
import Testing

/// Burrow's rules as `status --watch` applies them to successive samples.
@Suite("partition status rules")
struct PartitionStatusTests {
    let start = ContinuousClock.now

    func at(_ seconds: Int) -> ContinuousClock.Instant { start + .seconds(seconds) }

    @Test("caught up and quiet for the window is idle, never stall")
    func idle() {
        var judge = PartitionStatusJudge(window: .seconds(10))
        #expect(judge.status(topic: "t", partition: 0, checkpoint: 5, lag: 0, at: at(0)) == .ok)
        #expect(judge.status(topic: "t", partition: 0, checkpoint: 5, lag: 0, at: at(9)) == .ok)
        #expect(judge.status(topic: "t", partition: 0, checkpoint: 5, lag: 0, at: at(10)) == .idle)
    }

    @Test("records waiting and the checkpoint still for the window is stall; moving again is ok")
    func stall() {
        var judge = PartitionStatusJudge(window: .seconds(10))
        #expect(judge.status(topic: "t", partition: 0, checkpoint: 5, lag: 3, at: at(0)) == .ok)
        #expect(judge.status(topic: "t", partition: 0, checkpoint: 5, lag: 3, at: at(10)) == .stall)
        #expect(judge.status(topic: "t", partition: 0, checkpoint: 8, lag: 0, at: at(11)) == .ok)
    }

    @Test("advancing while the lag grows over a window is warn")
    func warn() {
        var judge = PartitionStatusJudge(window: .seconds(10))
        #expect(judge.status(topic: "t", partition: 0, checkpoint: 0, lag: 10, at: at(0)) == .ok)
        #expect(judge.status(topic: "t", partition: 0, checkpoint: 5, lag: 30, at: at(5)) == .ok, "within the first window")
        #expect(judge.status(topic: "t", partition: 0, checkpoint: 9, lag: 20, at: at(10)) == .warn, "20 > 10 a window ago")
        #expect(judge.status(topic: "t", partition: 0, checkpoint: 30, lag: 15, at: at(20)) == .ok, "15 < 20: shrinking")
        #expect(judge.status(topic: "t", partition: 0, checkpoint: 60, lag: 0, at: at(30)) == .ok, "caught up")
    }

    @Test("a checkpoint that goes backwards is rewind for a window, then judged again")
    func rewind() {
        var judge = PartitionStatusJudge(window: .seconds(10))
        #expect(judge.status(topic: "t", partition: 0, checkpoint: 50, lag: 0, at: at(0)) == .ok)
        #expect(judge.status(topic: "t", partition: 0, checkpoint: 10, lag: 40, at: at(1)) == .rewind)
        #expect(judge.status(topic: "t", partition: 0, checkpoint: 30, lag: 20, at: at(5)) == .rewind)
        #expect(judge.status(topic: "t", partition: 0, checkpoint: 50, lag: 0, at: at(12)) == .ok)
        #expect(judge.status(topic: "t", partition: 1, checkpoint: 0, lag: 0, at: at(12)) == .ok, "partitions are judged apart")
    }
}
