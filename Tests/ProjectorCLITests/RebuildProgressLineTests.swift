import Foundation
import ProjectorTestSupport
import ProjectorTesting
import Testing

/// `projector rebuild --progress-interval`: progress lines for a script that records them, even
/// where a rebuild is otherwise quiet (CI=true, which every test process runs with).
@Suite("rebuild progress lines")
struct RebuildProgressLineTests {
    @Test("--progress-interval prints progress lines with an ETA under CI=true; without it nothing; 0 is bad usage")
    func progressInterval() throws {
        let stream = try RunCommandTests.Stream(partitions: 3, streamLength: 6_000)
        let brokers = stream.fixture.bootstrapServers
        let base = ["rebuild", "pipelines/order_summary.yaml", "--brokers", brokers, "--batch-size", "500"]

        let quiet = try ProjectorExecutable.run(base + ["--db", stream.directory.path(named: "quiet.sqlite")])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(!quiet.stderr.contains(" ETA "), "\(quiet.stderr)")

        let recorded = try ProjectorExecutable.run(
            base + ["--db", stream.directory.path(named: "recorded.sqlite"), "--progress-interval", "0.001"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let lines = recorded.stderr.split(separator: "\n").filter { $0.hasPrefix("rebuild order_summary: ") && $0.contains(" ETA ") }
        #expect(lines.count >= 3, "\(recorded.stderr)")
        // After the first batches the ETA is a time (m:ss, with tenths under a minute), with every partition's share after it.
        #expect(lines.dropFirst().allSatisfy { $0.contains(#/ ETA \d+:\d\d(\.\d)? \| orders 0:\d+% 1:\d+% 2:\d+%/#) }, "\(lines)")

        let zero = try ProjectorExecutable.run(base + ["--db", stream.directory.path(named: "zero.sqlite"), "--progress-interval", "0"])
        #expect(zero.status == 2)
        #expect(zero.stderr.contains("--progress-interval"), "\(zero.stderr)")
    }
}
