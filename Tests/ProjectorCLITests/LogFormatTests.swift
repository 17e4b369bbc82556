import Foundation
import KafkaClient
import ProjectorTestSupport
import ProjectorTesting
import Testing

/// `--log-format`, `--log-level`, librdkafka's log callback and per-kind properties, end to end.
@Suite("structured logs, end to end")
struct LogFormatTests {
    /// A dead-letter pipeline with a dead-letter topic (so the worker also runs a producer) and
    /// events of which one fails.
    static func setUp() throws -> (MockClusterFixture, TemporaryDatabase, String) {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("counts", partitions: 1)
        try fixture.cluster.createTopic("counts.dlq", partitions: 1)
        let directory = try TemporaryDatabase()
        let pipeline = directory.path(named: "counts.yaml")
        try CountsPipeline.yaml(settings: ["on_error: dead-letter", "dead_letter: {topic: counts.dlq}"])
            .write(toFile: pipeline, atomically: true, encoding: .utf8)
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: fixture.bootstrapServers))
        for value in [#"{"eventType":"Add","data":{"id":"a","by":1}}"#, "{broken", #"{"eventType":"Add","data":{"id":"b","by":2}}"#] {
            try producer.send(KafkaProducerMessage(topic: "counts", key: nil, value: Array(value.utf8), headers: []))
        }
        try producer.flush(timeout: .seconds(30))
        return (fixture, directory, pipeline)
    }

    @Test("--log-format json: every log line is a JSON object with level, label and message; librdkafka's lines come through the logger with their facility")
    func jsonLines() throws {
        let (fixture, directory, pipeline) = try Self.setUp()
        let run = try ProjectorExecutable.run([
            "run", pipeline, "--brokers", fixture.bootstrapServers, "--db", directory.path, "--exit-at-end",
            "--group", fixture.makeGroupID(), "--log-format", "json", "--log-level", "debug", "-X", "debug=cgrp",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stderr.split(separator: "\n")
        let summary = lines.filter { $0.hasPrefix("pipeline counts: ") }
        #expect(summary.count == 1)
        #expect(summary.first?.contains("applied 2,") == true && summary.first?.contains("dead-lettered 1") == true, "\(summary)")
        var librdkafka = 0
        for line in lines where !line.hasPrefix("pipeline counts: ") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            #expect(object["level"] is String && object["label"] is String && object["message"] is String && object["time"] is String,
                    "\(line)")
            if object["label"] as? String == "librdkafka" {
                librdkafka += 1
                #expect(object["facility"] is String && object["client"] is String, "\(line)")
            }
        }
        #expect(librdkafka > 0, "debug=cgrp makes librdkafka log through the callback")
        #expect(!run.stderr.contains("%7|") && !run.stderr.contains("%4|"), "no raw librdkafka line bypasses the logger")
    }

    @Test("a consumer property passed with -X does not make the dead-letter producer warn (no CONFWARN)")
    func consumerPropertiesStayOffProducers() throws {
        let (fixture, directory, pipeline) = try Self.setUp()
        let run = try ProjectorExecutable.run([
            "run", pipeline, "--brokers", fixture.bootstrapServers, "--db", directory.path, "--exit-at-end",
            "--group", fixture.makeGroupID(), "-X", "fetch.wait.max.ms=50", "-X", "session.timeout.ms=6000",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stderr.contains("CONFWARN"), "\(run.stderr)")
        #expect(!run.stderr.contains("consumer property"), "\(run.stderr)")
        #expect(run.stderr.contains("dead-lettered 1"), "\(run.stderr)")
    }

    @Test("--log-level warning leaves info lines out; a bad level is a usage error")
    func levels() throws {
        let (fixture, directory, pipeline) = try Self.setUp()
        let quiet = try ProjectorExecutable.run([
            "run", pipeline, "--brokers", fixture.bootstrapServers, "--db", directory.path, "--exit-at-end",
            "--group", fixture.makeGroupID(), "--log-level", "warning", "--http", "127.0.0.1:0",
        ])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(!quiet.stderr.contains(" info: "), "\(quiet.stderr)")
        let bad = try ProjectorExecutable.run(["run", pipeline, "--brokers", fixture.bootstrapServers, "--db", directory.path,
                                               "--log-level", "loud"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--log-level"), "\(bad.stderr)")
    }
}
