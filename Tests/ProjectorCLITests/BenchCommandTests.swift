import ProjectorTestSupport
import ArgumentParser
import Foundation
import ProjectorTesting
import Testing
@testable import ProjectorCLI

@Suite("projector bench")
struct BenchCommandTests {
    static let root = ProjectorExecutable.repositoryRoot

    @Test("parses the contract's flags; --brokers is optional")
    func parsesFlags() throws {
        let command = try BenchCommand.parse([
            "--brokers", "k:9092", "--topic", "t", "--messages", "5", "--size", "300", "--partitions", "3",
            "-X", "linger.ms=20", "--existing", "--pipeline", "p.yaml",
        ])
        #expect(command.brokers == "k:9092")
        #expect(command.topic == "t")
        #expect(command.messages == 5)
        #expect(command.size == 300)
        #expect(command.partitions == 3)
        #expect(command.librdkafka.properties == ["linger.ms=20"])
        #expect(command.existing)
        #expect(command.pipeline == "p.yaml")
        let defaults = try BenchCommand.parse([])
        #expect(defaults.brokers == nil)
        #expect(defaults.topic == "projector-bench")
        #expect(defaults.messages == 100_000)
        #expect(try ProjectorCommand.parseAsRoot(["bench"]) is BenchCommand)
    }

    @Test("rejects bad usage", arguments: [
        ["--messages", "0"], ["--size", "0"], ["--partitions", "0"], ["--existing"], ["--topic", ""],
        ["--http", "127.0.0.1:0"], ["--pipeline", "p.yaml", "--http", "nowhere"], ["--pipeline", "p.yaml", "--scrape-interval", "0"],
        ["--existing-views"],
    ])
    func rejectsBadUsage(_ arguments: [String]) {
        #expect(throws: (any Error).self) { try BenchCommand.parse(arguments) }
    }

    @Test("embedded partitions cover N events at ~3 MiB each, at least 6")
    func defaultPartitions() {
        #expect(BenchCommand.defaultPartitions(messages: 1_000, size: 220, embedded: true) == 6)
        #expect(BenchCommand.defaultPartitions(messages: 1_000_000, size: 220, embedded: true) == 83)
        #expect(BenchCommand.defaultPartitions(messages: 1_000_000, size: 220, embedded: false) == 6)
    }

    @Test("end to end on the embedded broker: produce, consume, pipeline; bad usage exits 2")
    func endToEnd() throws {
        let pipeline = Self.root.appendingPathComponent("pipelines/order_summary.yaml").path
        let ok = try ProjectorExecutable.run(["bench", "--messages", "600", "--partitions", "2", "--pipeline", pipeline, "--json"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let phases = ok.stdout.split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
        #expect(phases.map { $0["mode"] as? String } == ["produce", "consume", "pipeline"])
        #expect(phases.allSatisfy { $0["messages"] as? Int == 600 })

        let text = try ProjectorExecutable.run(["bench", "--messages", "300", "--size", "400"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("msg/s") && text.stdout.contains("MB/s") && text.stdout.contains("p99"))

        let bad = try ProjectorExecutable.run(["bench", "--messages", "-1"])
        #expect(bad.status == 2)
        let unreachable = try ProjectorExecutable.run(["bench", "--brokers", "127.0.0.1:1", "--existing", "-X", "socket.connection.setup.timeout.ms=1000"])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.split(separator: "\n").count == 1, "\(unreachable.stderr)")
    }

    @Test("--existing-views: the checkpoints go back to the topic's start and the timed pass reads all of it again")
    func existingViews() throws {
        let pipeline = Self.root.appendingPathComponent("pipelines/order_summary.yaml").path
        let result = try ProjectorExecutable.run(["bench", "--messages", "600", "--partitions", "2", "--events", "demo", "--skip-consume",
                                                  "--pipeline", pipeline, "--existing-views", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let phases = result.stdout.split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
        #expect(phases.map { $0["mode"] as? String } == ["produce", "pipeline"])
        #expect(phases.last?["messages"] as? Int == 600, "\(result.stdout)")
    }

    @Test("--http: the pipeline phase runs with the operations server up, scraped over HTTP; every scrape answers 200")
    func servedPipeline() throws {
        let pipeline = Self.root.appendingPathComponent("pipelines/order_summary.yaml").path
        let served = try ProjectorExecutable.run(["bench", "--messages", "3000", "--events", "demo", "--skip-consume", "--pipeline", pipeline,
                                                  "--http", "127.0.0.1:0", "--scrape-interval", "0.05", "--json"])
        #expect(served.status == 0, "\(served.stderr)")
        let line = try #require(served.stderr.split(separator: "\n").first { $0.contains("bench: --http: ") }, "\(served.stderr)")
        let scrapes = try #require(Int(line.split(separator: " ")[2]), "\(line)")
        #expect(scrapes >= 1 && line.hasSuffix("answered 200"), "\(line)")
        #expect(served.stdout.contains(#""mode":"pipeline""#), "\(served.stdout)")
    }
}
