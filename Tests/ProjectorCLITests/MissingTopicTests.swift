import ProjectorTestSupport
import Foundation
import KafkaClient
import ProjectorTesting
import Testing

/// Issue 19: no command creates a topic by looking at it. The mock cluster creates any topic a
/// Metadata request names (as Apache Kafka does by default), so each command below is given a
/// missing topic and the cluster's topic list — read with an all-topics request, which creates
/// nothing — must be the same afterwards.
@Suite("missing topics, end to end")
struct MissingTopicTests {
    /// The topics the cluster has (an all-topics Metadata request: it cannot create one).
    static func topics(_ brokers: String) throws -> Set<String> {
        Set(try KafkaAdmin(bootstrapServers: brokers).metadata(timeout: .seconds(5)).topics.map(\.name))
    }

    /// How a pasted command line ended.
    struct Pasted {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs one command line the way a user pastes it: through the shell.
    static func paste(_ line: String) throws -> Pasted {
        let directory = try TemporaryDatabase()
        let stdout = directory.path(named: "paste.out")
        let stderr = directory.path(named: "paste.err")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "\(line) >\(stdout) 2>\(stderr) </dev/null"]
        process.currentDirectoryURL = ProjectorExecutable.repositoryRoot
        process.environment = ProcessInfo.processInfo.environment.merging(["CI": "true"]) { $1 }
        try process.run()
        process.waitUntilExit()
        return Pasted(
            status: process.terminationStatus,
            stdout: (try? String(contentsOfFile: stdout, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "")
    }

    /// The text after `marker` on the first line of `text` that has it.
    static func suggestion(after marker: String, in text: String) throws -> String {
        let line = try #require(text.split(separator: "\n").first { $0.contains(marker) }, "no '\(marker)' in: \(text)")
        return String(line[line.range(of: marker)!.upperBound...]).trimmingCharacters(in: .whitespaces)
    }

    /// Produces `count` `Add` events to `topic` and waits for every acknowledgement.
    static func produceAdds(_ count: Int, to topic: String, brokers: String) throws {
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: brokers))
        for index in 0 ..< count {
            try producer.send(KafkaProducerMessage(
                topic: topic, key: Array("k\(index % 5)".utf8),
                value: Array(#"{"eventType":"Add","data":{"id":"k\#(index % 5)","by":1}}"#.utf8)))
        }
        try producer.flush(timeout: .seconds(30))
        for report in try producer.pollDeliveryReports() { if let error = report.error { throw error } }
    }

    @Test("bench --partitions 8 on a cluster that cannot create topics: exit 1 with the dev-broker command that has the topic; nothing created")
    func benchCannotCreate() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        let topic = fixture.makeName("bench")
        let before = try Self.topics(fixture.bootstrapServers)
        let result = try ProjectorExecutable.run(["bench", "--brokers", fixture.bootstrapServers, "--topic", topic,
                                                  "--messages", "1000", "--partitions", "8"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("cannot create topic \(topic)") && result.stderr.contains("no controller"), "\(result.stderr)")
        #expect(result.stderr.contains("dev-broker --topic \(topic):8"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(try Self.topics(fixture.bootstrapServers) == before)

        let existing = try ProjectorExecutable.run(["bench", "--brokers", fixture.bootstrapServers, "--topic", topic, "--existing"])
        #expect(existing.status == 1, "\(existing.stderr)")
        #expect(existing.stderr.contains("topic \(topic) does not exist at \(fixture.bootstrapServers). To create it and produce into it: "),
                "\(existing.stderr)")
        #expect(!existing.stderr.contains("--existing"), "\(existing.stderr)")
        #expect(try Self.topics(fixture.bootstrapServers) == before)
    }

    @Test("bench on a topic with another partition count: exit 2 naming both; the suggested --existing command reads it as it is")
    func benchPartitionMismatch() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        let topic = try fixture.makeTopic("bench", partitions: 4)
        try Self.produceAdds(40, to: topic, brokers: fixture.bootstrapServers)
        let before = try Self.topics(fixture.bootstrapServers)
        let result = try ProjectorExecutable.run(["bench", "--brokers", fixture.bootstrapServers, "--topic", topic,
                                                  "--messages", "100", "--partitions", "8"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("topic \(topic) exists with 4 partition(s), not the 8 of --partitions"), "\(result.stderr)")

        let existing = try Self.paste(try Self.suggestion(after: "read it as it is:", in: result.stderr))
        #expect(existing.status == 0, "\(existing.stderr)")
        #expect(existing.stderr.contains("topic \(topic) has 4 partition(s), not the 8 of --partitions; reading it as it is"))
        #expect(existing.stdout.contains("topic \(topic): 40 events in 4 partitions"), "\(existing.stdout)")
        #expect(try Self.topics(fixture.bootstrapServers) == before)
    }

    @Test("bench progress stays quiet without a terminal, even without CI=true")
    func benchQuietWithoutTerminal() throws {
        let result = try ProjectorExecutable.run(["bench", "--messages", "1000", "--skip-consume"], environment: ["CI": ""])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("bench: produced"), "\(result.stderr)")
        #expect(result.stdout.contains("msg/s"))
    }

    @Test("produce to a missing topic exits 1 naming it; the pasted --create-topic command, then the pasted dev-broker command, lead to a topic that takes the events")
    func produceMissingTopic() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        let topic = fixture.makeName("orders")
        let directory = try TemporaryDatabase()
        let events = directory.path(named: "events.jsonl")
        try #"{"eventType":"Add","data":{"id":"a","by":1}}"#.appending("\n").write(toFile: events, atomically: true, encoding: .utf8)
        let before = try Self.topics(fixture.bootstrapServers)

        let missing = try ProjectorExecutable.run(["produce", "--brokers", fixture.bootstrapServers, "--topic", topic, events])
        #expect(missing.status == 1, "\(missing.stderr)")
        #expect(missing.stderr.contains("topic \(topic) does not exist at \(fixture.bootstrapServers); nothing was sent"), "\(missing.stderr)")
        #expect(missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
        #expect(try Self.topics(fixture.bootstrapServers) == before)

        // The suggested command creates on purpose; the mock cannot, and says which broker can.
        let create = try Self.suggestion(after: "To create it:", in: missing.stderr)
        #expect(create.contains("--create-topic --partitions 1"))
        let cannot = try Self.paste(create)
        #expect(cannot.status == 1, "\(cannot.stderr)")
        #expect(cannot.stderr.contains("cannot create topic \(topic)"), "\(cannot.stderr)")
        #expect(try Self.topics(fixture.bootstrapServers) == before)

        let brokerLine = try Self.suggestion(after: "start one that has the topic:", in: cannot.stderr)
        let brokerDirectory = try TemporaryDatabase()
        let brokerOutput = brokerDirectory.path(named: "broker.out")
        let broker = Process()
        broker.executableURL = URL(fileURLWithPath: "/bin/sh")
        broker.arguments = ["-c", "exec \(brokerLine) >\(brokerOutput) 2>/dev/null"]
        try broker.run()
        defer { if broker.isRunning { broker.terminate() } }
        var address = ""
        try waitUntil(deadline: .seconds(10), "the pasted dev-broker's address") {
            let text = (try? String(contentsOfFile: brokerOutput, encoding: .utf8)) ?? ""
            guard text.contains("\n") else { return false }
            address = String(text.prefix { $0 != "\n" })
            return true
        }
        #expect(try Self.topics(address).contains(topic))
        let produced = try ProjectorExecutable.run(["produce", "--brokers", address, "--topic", topic, events])
        #expect(produced.status == 0, "\(produced.stderr)")
    }

    @Test("produce: --partitions needs --create-topic; --create-topic on a topic with another count exits 2 naming both")
    func produceUsage() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        let topic = try fixture.makeTopic("orders", partitions: 2)
        let directory = try TemporaryDatabase()
        let events = directory.path(named: "events.jsonl")
        try #"{"eventType":"Add","data":{"id":"a","by":1}}"#.appending("\n").write(toFile: events, atomically: true, encoding: .utf8)

        let alone = try ProjectorExecutable.run(["produce", "--brokers", fixture.bootstrapServers, "--topic", topic, "--partitions", "2", events])
        #expect(alone.status == 2, "\(alone.stderr)")
        #expect(alone.stderr.contains("--partitions is only for --create-topic"))
        let mismatch = try ProjectorExecutable.run(["produce", "--brokers", fixture.bootstrapServers, "--topic", topic,
                                                    "--create-topic", "--partitions", "3", events])
        #expect(mismatch.status == 2, "\(mismatch.stderr)")
        #expect(mismatch.stderr.contains("topic \(topic) exists with 2 partition(s), not the 3 of --partitions"), "\(mismatch.stderr)")
        let existing = try ProjectorExecutable.run(["produce", "--brokers", fixture.bootstrapServers, "--topic", topic, "--create-topic", events])
        #expect(existing.status == 0, "\(existing.stderr)")
    }

    @Test("run on a missing source topic exits 1 naming it, without waiting; a missing dead-letter topic exits 1; nothing created")
    func runMissingTopics() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        let directory = try TemporaryDatabase()
        let pipeline = directory.path(named: "counts.yaml")
        try CountsPipeline.yaml().write(toFile: pipeline, atomically: true, encoding: .utf8)
        let before = try Self.topics(fixture.bootstrapServers)
        let run = try ProjectorExecutable.run(["run", pipeline, "--brokers", fixture.bootstrapServers, "--db", directory.path,
                                               "--exit-at-end", "--group", fixture.makeGroupID()])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("pipeline counts: source topic counts (source.topics) does not exist in the cluster"), "\(run.stderr)")
        #expect(try Self.topics(fixture.bootstrapServers) == before)

        try fixture.cluster.createTopic("counts", partitions: 1)
        let lettered = directory.path(named: "lettered.yaml")
        try CountsPipeline.yaml(settings: ["on_error: dead-letter", "dead_letter: {topic: counts.dlq}"])
            .write(toFile: lettered, atomically: true, encoding: .utf8)
        let withSource = try Self.topics(fixture.bootstrapServers)
        let noLetters = try ProjectorExecutable.run(["run", lettered, "--brokers", fixture.bootstrapServers, "--db", directory.path(named: "l.sqlite"),
                                                     "--exit-at-end", "--group", fixture.makeGroupID()])
        #expect(noLetters.status == 1, "\(noLetters.stderr)")
        #expect(noLetters.stderr.contains("the dead-letter topic counts.dlq (dead_letter.topic) does not exist"), "\(noLetters.stderr)")
        #expect(try Self.topics(fixture.bootstrapServers) == withSource)
    }

    @Test("rebuild and verify on a cluster without the source topic exit 1 naming it; status leaves out its lag and says why; nothing created")
    func rebuildVerifyStatusMissingTopic() throws {
        let source = try MockClusterFixture(brokerCount: 1)
        try source.cluster.createTopic("counts", partitions: 1)
        try Self.produceAdds(10, to: "counts", brokers: source.bootstrapServers)
        let directory = try TemporaryDatabase()
        let pipeline = directory.path(named: "counts.yaml")
        try CountsPipeline.yaml().write(toFile: pipeline, atomically: true, encoding: .utf8)
        let run = try ProjectorExecutable.run(["run", pipeline, "--brokers", source.bootstrapServers, "--db", directory.path,
                                               "--exit-at-end", "--group", source.makeGroupID()])
        #expect(run.status == 0, "\(run.stderr)")

        // Another cluster, without the topic the views were built from.
        let other = try MockClusterFixture(brokerCount: 1)
        let before = try Self.topics(other.bootstrapServers)
        let rebuild = try ProjectorExecutable.run(["rebuild", pipeline, "--brokers", other.bootstrapServers, "--db", directory.path])
        #expect(rebuild.status == 1, "\(rebuild.stderr)")
        #expect(rebuild.stderr.contains("the brokers have no topic counts"), "\(rebuild.stderr)")
        let verify = try ProjectorExecutable.run(["verify", pipeline, "--brokers", other.bootstrapServers, "--db", directory.path])
        #expect(verify.status == 1, "\(verify.stderr)")
        #expect(verify.stderr.contains("the brokers have no topic counts"), "\(verify.stderr)")
        let status = try ProjectorExecutable.run(["status", "--db", directory.path, "--brokers", other.bootstrapServers, "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stderr.contains("status: topic counts does not exist at \(other.bootstrapServers)"), "\(status.stderr)")
        #expect(status.stdout.contains(#""next_offset":10"#) && !status.stdout.contains("lag"), "\(status.stdout)")
        #expect(try Self.topics(other.bootstrapServers) == before)
    }
}
