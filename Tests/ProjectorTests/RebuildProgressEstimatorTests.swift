import Foundation
@testable import Projector
import Testing

/// The rebuild's ETA (``RebuildProgress/Estimator``) against synthetic, deterministic runs:
/// 2,000,000 events in batches of 10,000, each batch's seconds given by a pace (seconds per event)
/// as a function of the share done. No clocks: the elapsed times are computed.
@Suite("rebuild progress ETA")
struct RebuildProgressEstimatorTests {
    static let total = 2_000_000
    static let batch = 10_000

    /// Feeds the run to an estimator; per batch from `from` on, the estimate's error relative to
    /// the actual time left (positive: too long). With `writes`, every `every`-th batch also
    /// writes the window (`bytes` in `seconds`), and the run ends by writing what is left of it.
    static func errors(
        from: Double = 0.2, startup: Double = 3, stall: (at: Double, seconds: Double)? = nil,
        writes: (every: Int, seconds: Double, bytes: Int)? = nil, writeGrowth: Double = 0, pace: (Double) -> Double
    ) -> [(done: Double, error: Double)] {
        var elapsed = [startup]
        var done = [0]
        var batchSeconds = [0.0]
        while done.last! < total {
            let share = Double(done.last!) / Double(total)
            var seconds = Double(batch) * pace(share + Double(batch) / Double(total) / 2)
            if let stall, share >= stall.at, share < stall.at + Double(batch) / Double(total) { seconds += stall.seconds }
            if let writes, done.count % writes.every == 0 { seconds += writes.seconds * (1 + writeGrowth * Double(done.count / writes.every - 1)) }
            batchSeconds.append(seconds)
            elapsed.append(elapsed.last! + seconds)
            done.append(done.last! + batch)
        }
        let unwritten = { (index: Int) in writes.map { index % $0.every } ?? 0 }
        let lastWrite = writes.map { $0.seconds * (1 + writeGrowth * Double((done.count - 1) / $0.every)) } ?? 0
        let end = elapsed.last! + (writes.map { lastWrite * Double(unwritten(done.count - 1)) / Double($0.every) } ?? 0)
        var estimator = RebuildProgress.Estimator()
        var errors: [(done: Double, error: Double)] = []
        for index in 1 ..< done.count {
            let wrote = writes.map { index % $0.every == 0 ? $0.bytes : 0 } ?? 0
            estimator.record(events: done[index], total: Int64(total), elapsed: .milliseconds(Int64(elapsed[index] * 1000)),
                             batchSeconds: batchSeconds[index], wroteBytes: wrote)
            let share = Double(done[index]) / Double(total)
            let held = writes.map { unwritten(index) * $0.bytes / $0.every } ?? 0
            guard share >= from, done[index] < total,
                  let eta = estimator.remaining(Int64(total - done[index]), unwrittenBytes: held) else { continue }
            let actual = end - elapsed[index]
            errors.append((share, (RebuildProgress.Estimator.seconds(eta) - actual) / actual))
        }
        return errors
    }

    static func worst(_ errors: [(done: Double, error: Double)]) -> Double {
        errors.map { abs($0.error) }.max() ?? .infinity
    }

    @Test("a constant rate: the ETA is the time left")
    func constantRate() {
        let errors = Self.errors { _ in 1.0 / 20_000 }
        #expect(errors.count > 150)
        #expect(Self.worst(errors) < 0.01)
    }

    @Test("a pace growing with the offset (the mock broker's lookups): the ETA follows it")
    func paceGrowingLinearly() {
        // 4 times slower at the end than at the start; a constant rate would promise half the time left at 20 %.
        let errors = Self.errors { share in (1 + 3 * share) / 20_000 }
        #expect(Self.worst(errors) < 0.01)
    }

    @Test("a rate falling linearly or exponentially: within 20 % from the 20 % mark, closer as the run goes")
    func rateFalling() {
        for pace in [{ (share: Double) in 1 / (20_000 * (1 - 0.6 * share)) }, { (share: Double) in exp(1.2 * share) / 20_000 }] {
            let errors = Self.errors(pace: pace)
            #expect(Self.worst(errors) < 0.2)
            #expect(Self.worst(errors.filter { $0.done >= 0.8 }) < 0.15)
        }
    }

    @Test("windows written every few batches (seconds each): the ETA counts the writes left")
    func windowWrites() {
        // A 5 s write every 15 batches of 0.5 s: the time curve is a staircase.
        let errors = Self.errors(writes: (every: 15, seconds: 5, bytes: 1 << 20)) { _ in 1.0 / 20_000 }
        #expect(Self.worst(errors.filter { $0.done <= 0.9 }) < 0.15)
        #expect(Self.worst(errors.filter { [0.2, 0.4, 0.6, 0.8].contains($0.done) }) < 0.06)
    }

    @Test("writes that cost more per byte as the tables grow: the ETA follows the rising cost")
    func writesGrowing() {
        // The n-th write of the same bytes takes 1 + 0.25 n times the first: a constant cost per
        // byte would promise too little.
        let errors = Self.errors(writes: (every: 15, seconds: 2, bytes: 1 << 20), writeGrowth: 0.25) { _ in 1.0 / 20_000 }
        #expect(Self.worst(errors.filter { [0.2, 0.4, 0.6, 0.8].contains($0.done) }) < 0.1)
    }

    @Test("a small first write's fixed cost does not hide the rising cost per byte of the full windows after it")
    func smallFirstWrite() {
        // Batches of 0.5 s; a first write of 64 KiB in 50 ms in the second batch (its commit,
        // ~760 ns a byte), then a 4 MiB window every 10 batches at 100 ns a byte, 30 % more with
        // each write (the tables outgrow SQLite's cache). Weighted by its bytes, the first write
        // does not turn the line through the costs per byte downwards.
        let megabytes = 4 << 20
        var elapsed = 0.0
        var batches: [(seconds: Double, wrote: Int, held: Int)] = []
        var writes = 0
        for index in 1 ... Self.total / Self.batch {
            var seconds = 0.5
            var wrote = 0
            if index == 2 {
                seconds += 0.05
                wrote = 64 << 10
            } else if index % 10 == 0 {
                writes += 1
                seconds += Double(megabytes) * 100e-9 * (1 + 0.3 * Double(writes))
                wrote = megabytes
            }
            batches.append((seconds, wrote, index % 10 * megabytes / 10))
        }
        let end = batches.reduce(0) { $0 + $1.seconds }
        var estimator = RebuildProgress.Estimator()
        for (index, batch) in batches.enumerated() {
            elapsed += batch.seconds
            let done = (index + 1) * Self.batch
            estimator.record(events: done, total: Int64(Self.total), elapsed: .milliseconds(Int64(elapsed * 1000)),
                             batchSeconds: batch.seconds, wroteBytes: batch.wrote)
            guard [0.2, 0.4, 0.6, 0.8].contains(Double(done) / Double(Self.total)) else { continue }
            let eta = estimator.remaining(Int64(Self.total - done), unwrittenBytes: batch.held).map(RebuildProgress.Estimator.seconds)
            let actual = end - elapsed
            #expect(abs((eta ?? 0) - actual) / actual < 0.1, "at \(done) events: ETA \(eta ?? 0) s, actual \(actual) s")
        }
    }

    @Test("a one-off stall does not bend the ETA for the rest of the run")
    func stall() {
        // 30 s without progress at 50 % of a 100 s run.
        let errors = Self.errors(stall: (at: 0.5, seconds: 30)) { _ in 1.0 / 20_000 }
        #expect(Self.worst(errors.filter { $0.done >= 0.6 }) < 0.15)
        #expect(Self.worst(errors.filter { $0.done >= 0.75 }) < 0.1)
    }

    @Test("no ETA before there is a pace; zero when nothing is left; few points give the mean pace")
    func edges() {
        var estimator = RebuildProgress.Estimator()
        #expect(estimator.remaining(100) == nil)
        estimator.record(events: 0, total: 100, elapsed: .seconds(1))
        #expect(estimator.remaining(100) == nil)
        estimator.record(events: 10, total: 100, elapsed: .seconds(2))
        #expect(estimator.remaining(90) == .seconds(18))
        #expect(estimator.remaining(0) == .zero)
        estimator.record(events: 20, total: 100, elapsed: .seconds(3))
        // Two points: the mean pace between them (1 s per 10 events).
        #expect(estimator.remaining(80) == .seconds(8))
    }

    @Test("the ETA adds the last write of the folded rows, at the seconds per byte earlier writes took")
    func lastWrite() {
        var estimator = RebuildProgress.Estimator()
        estimator.record(events: 100, total: 1_000, elapsed: .seconds(1), batchSeconds: 0.1)
        // No write seen yet: nothing to go by.
        #expect(estimator.remaining(0, unwrittenBytes: 5_000) == .zero)
        for done in 2 ... 5 { estimator.record(events: 100 * done, total: 1_000, elapsed: .seconds(done), batchSeconds: 0.1) }
        // A batch that wrote 10,000 bytes took 2 s more than the others.
        estimator.record(events: 600, total: 1_000, elapsed: .seconds(8), batchSeconds: 2.1, wroteBytes: 10_000)
        #expect(estimator.remaining(0, unwrittenBytes: 5_000) == .seconds(1))
        // 400 events left: 4 s at 10 ms each, and 15,000 bytes (written and held) per 600 events so far.
        let eta = estimator.remaining(400, unwrittenBytes: 5_000).map(RebuildProgress.Estimator.seconds) ?? 0
        #expect(abs(eta - (4 + 1 + 400.0 * 15_000 / 600 * 0.0002)) < 0.01)
    }

    @Test("windows written alongside the reading: the slower of reading and writing, then the last window's write")
    func writesAlongside() {
        var estimator = RebuildProgress.Estimator()
        // Reading at 10 ms an event, undisturbed by the writer's thread.
        for done in 1 ... 6 { estimator.record(events: 100 * done, total: 1_000, elapsed: .seconds(done), batchSeconds: 0.1) }
        // The writer wrote a window of 10,000 bytes in 1 s: 0.0001 s a byte, not on the reading's time.
        estimator.recordBackgroundWrite(bytes: 10_000, seconds: 1)
        #expect(estimator.writeSecondsPerByte == 0.0001)
        let seconds = { (left: Int64, lastWindow: Int) in
            estimator.remaining(left, unwrittenBytes: 5_000, foldedBytes: 15_000, lastWindow: lastWindow)
                .map(RebuildProgress.Estimator.seconds) ?? 0
        }
        // 400 events left fold 10,000 more bytes: 15,000 to write. With windows of 5,000 bytes,
        // 10,000 are written while 4 s of reading go on (1 s: reading decides), then the last 5,000 (0.5 s).
        #expect(abs(seconds(400, 5_000) - 4.5) < 0.01)
        // With windows of 1,000 bytes the writes before the last (1.4 s) still hide behind the reading.
        #expect(abs(seconds(400, 1_000) - 4.1) < 0.01)
        // Writing outlasts the reading once a byte costs 0.01 s (the moving average of 0.0001 and
        // 0.0199): 14,000 bytes alongside (140 s), then the last 1,000 at up to four times that
        // cost, as the rising trend of the writes says.
        estimator.recordBackgroundWrite(bytes: 100, seconds: 1.99)
        #expect(abs(estimator.writeSecondsPerByte! - 0.01) < 1e-9)
        #expect(seconds(400, 1_000) >= 140 + 10 - 0.01 && seconds(400, 1_000) <= 140 + 40 + 0.01)
    }

    @Test("a write in the first batch counts its bytes, not its time, as a write's cost")
    func writeInFirstBatch() {
        var estimator = RebuildProgress.Estimator()
        // The first batch wrote the window: how much of its second was evaluation is not known.
        estimator.record(events: 100, total: 1_000, elapsed: .seconds(1), batchSeconds: 1, wroteBytes: 10_000)
        #expect(estimator.writeSecondsPerByte == nil)
        #expect(estimator.remaining(0, unwrittenBytes: 5_000) == .zero)
        for done in 2 ... 5 { estimator.record(events: 100 * done, total: 1_000, elapsed: .seconds(done), batchSeconds: 1) }
        estimator.record(events: 600, total: 1_000, elapsed: .seconds(8), batchSeconds: 3, wroteBytes: 10_000)
        // 2 s for 10,000 bytes; 20,000 bytes written by 600 events.
        #expect(estimator.writeSecondsPerByte == 0.0002)
        #expect(estimator.written.bytes == 20_000)
    }

    @Test("the progress line shows tenths of a second under a minute, whole seconds above")
    func clock() {
        #expect(RebuildProgress.clock(.milliseconds(7_350)) == "0:07.3")
        #expect(RebuildProgress.clock(.milliseconds(59_990)) == "0:59.9")
        #expect(RebuildProgress.clock(.zero) == "0:00.0")
        #expect(RebuildProgress.clock(.milliseconds(61_900)) == "1:01")
        #expect(RebuildProgress.clock(.seconds(3_725)) == "1:02:05")
    }

    @Test("the points kept stay bounded however many batches")
    func boundedPoints() {
        var estimator = RebuildProgress.Estimator()
        for index in 1 ... 100_000 {
            estimator.record(events: index, total: 100_000, elapsed: .milliseconds(Int64(index)))
        }
        #expect(estimator.points.count <= RebuildProgress.Estimator.capacity)
        #expect(estimator.points.count >= 150)
        let eta = estimator.remaining(50_000).map(RebuildProgress.Estimator.seconds) ?? 0
        #expect(abs(eta - 50) < 0.5)
    }
}
