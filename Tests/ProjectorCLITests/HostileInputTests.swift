import ProjectorTools
import ProjectorTestSupport
import Foundation
import KafkaClient
import Projector
import ProjectorTesting
import Testing
import Views
import ProjectorModel

/// Hostile or broken input: each gets a clear error and the on_error policy, never a crash or a
/// hang; valid but extreme input may simply be applied.
@Suite("hostile input")
struct HostileInputTests {
    /// Runs `projector` and fails the test if it does not end within `deadline` (a hang).
    struct Outcome {
        var status: Int32
        var wasSignaled: Bool
        var stdout: String
        var stderr: String
    }

    static func runBounded(_ arguments: [String], deadline: Duration = .seconds(60)) throws -> Outcome {
        let directory = try TemporaryDatabase()
        let (process, stdout, stderr) = try ProjectorExecutable.start(arguments, in: directory.directory, label: "bounded")
        do {
            try waitUntil(deadline: deadline, pollInterval: .milliseconds(20), "projector \(arguments.first ?? "") to end") { !process.isRunning }
        } catch {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("projector \(arguments.prefix(2)) hung for \(deadline)")
        }
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, wasSignaled: process.terminationReason == .uncaughtSignal,
            stdout: (try? String(contentsOf: stdout, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderr, encoding: .utf8)) ?? "")
    }

    /// A hostile message and what the worker must do with it.
    struct Poison {
        enum Fate { case deadLettered, ignored, appliedOrDeadLettered, notApplied }
        var name: String
        var value: [UInt8]?
        var fate: Fate
    }

    static func posted(_ id: String, _ data: String) -> [UInt8] {
        Array(#"{"eventId":"\#(id)","eventType":"Posted","data":\#(data)}"#.utf8)
    }

    static let poisons: [Poison] = [
        Poison(name: "malformed JSON", value: Array("{broken".utf8), fate: .deadLettered),
        Poison(name: "truncated JSON", value: Array(posted("h-trunc", #"{"account":"x-t","amount":1}"#).dropLast(7)), fate: .deadLettered),
        Poison(name: "non-UTF-8 bytes", value: [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0xC0, 0x80, 0x7D], fate: .deadLettered),
        Poison(name: "non-UTF-8 inside a valid string", value: posted("h-utf", "{\"account\":\"x-\u{1}\",\"amount\":1}").map { $0 == 1 ? 0xFF : $0 },
               fate: .appliedOrDeadLettered),
        Poison(name: "a JSON array", value: Array("[1,2,3]".utf8), fate: .deadLettered),
        Poison(name: "a JSON number", value: Array("42".utf8), fate: .deadLettered),
        Poison(name: "a JSON string", value: Array(#""Posted""#.utf8), fate: .deadLettered),
        Poison(name: "JSON null", value: Array("null".utf8), fate: .deadLettered),
        Poison(name: "10,000-deep nesting", value: posted("h-deep", #"{"account":"x-deep","amount":1,"n":"# + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"),
               fate: .appliedOrDeadLettered),
        Poison(name: "10,000-deep nesting, unterminated", value: Array(String(repeating: #"{"a":"#, count: 10_000).utf8), fate: .deadLettered),
        Poison(name: "a huge integer", value: posted("h-huge", #"{"account":"x-huge","amount":123456789012345678901234567890}"#), fate: .appliedOrDeadLettered),
        Poison(name: "1e400", value: posted("h-exp", #"{"account":"x-exp","amount":1e400}"#), fate: .appliedOrDeadLettered),
        Poison(name: "a numeric string", value: posted("h-str", #"{"account":"x-str","amount":"12"}"#), fate: .appliedOrDeadLettered),
        Poison(name: "duplicate keys", value: posted("h-dup", #"{"account":"x-dup","amount":1,"amount":2}"#), fate: .appliedOrDeadLettered),
        Poison(name: "a missing key path", value: posted("h-nokey", #"{"amount":1}"#), fate: .deadLettered),
        Poison(name: "a null key", value: posted("h-nullkey", #"{"account":null,"amount":1}"#), fate: .deadLettered),
        Poison(name: "data is a string", value: Array(#"{"eventId":"h-s","eventType":"Posted","data":"x"}"#.utf8), fate: .deadLettered),
        Poison(name: "an unknown event type", value: Array(#"{"eventId":"h-u","eventType":"Refunded","data":{"account":"x-u","amount":1}}"#.utf8), fate: .ignored),
        Poison(name: "an event type with SQL in it", value: Array(#"{"eventId":"h-sql","eventType":"Posted'; DROP TABLE ledger_audit; --","data":{"account":"x","amount":1}}"#.utf8), fate: .ignored),
        Poison(name: "a null value (tombstone)", value: nil, fate: .ignored),
        Poison(name: "an empty value", value: [], fate: .notApplied),
    ]

    @Test("poison events follow on_error: dead-letter; the valid events equal the reference; a 5 MB event is applied")
    func poisonEvents() throws {
        let stream = try LedgerStream(partitions: 2, onError: "dead-letter")
        var configuration = KafkaProducerConfiguration(bootstrapServers: stream.bootstrapServers)
        configuration.additionalProperties = ["message.max.bytes": "10000000"]
        let producer = try KafkaProducer(configuration: configuration)
        let valid = ReferenceLedger.events(count: 500, topic: stream.topic)
        var messages = valid.map { KafkaProducerMessage(topic: stream.topic, partition: 0, key: Array($0.key.utf8), value: Array($0.value.utf8)) }
        var poisonAt: [Int] = []  // the partition-0 offset of each poison
        for (index, poison) in Self.poisons.enumerated() {
            let offset = 20 * (index + 1) + index
            messages.insert(KafkaProducerMessage(topic: stream.topic, partition: 0, key: Array("hostile".utf8), value: poison.value), at: offset)
            poisonAt.append(offset)
        }
        let big = Self.posted("h-big", #"{"account":"x-big","amount":7,"pad":""# + String(repeating: "x", count: 5_000_000) + "\"}")
        messages.append(KafkaProducerMessage(topic: stream.topic, partition: 1, key: Array("x-big".utf8), value: big))
        for (index, message) in messages.enumerated() { try producer.send(message, id: UInt(index)) }
        try producer.flush(timeout: .seconds(60))
        let reports = try producer.pollDeliveryReports()
        let undelivered = reports.compactMap { $0.error }
        #expect(undelivered.isEmpty, "\(undelivered)")

        let run = try Self.runBounded(stream.arguments(group: stream.fixture.makeGroupID(), extra: [
            "--exit-at-end", "-X", "fetch.message.max.bytes=10000000",
        ]), deadline: .seconds(120))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.wasSignaled, "no crash")

        let store = try SQLiteViewStore(path: stream.database, configuration: .init(isReadOnly: true))
        let letters = try store.deadLetters()
        let lettered = Set(letters.map { Int($0.letter.offset) })
        let stored = try ReferenceLedger.stored(database: stream.database)
        #expect(letters.allSatisfy { !$0.letter.error.isEmpty && $0.letter.partition == 0 })
        #expect(lettered.isSubset(of: poisonAt), "only poisons are dead-lettered")
        for (poison, offset) in zip(Self.poisons, poisonAt) {
            // The id read from the raw bytes (some poisons are not valid UTF-8 or JSON).
            let id = poison.value.flatMap { bytes -> String? in
                let text = String(decoding: bytes, as: UTF8.self)
                guard let start = text.range(of: #""eventId":""#)?.upperBound, let end = text[start...].firstIndex(of: "\"") else { return nil }
                return String(text[start ..< end])
            }
            let isApplied = id.map { stored.audit[$0] != nil } ?? false
            switch poison.fate {
            case .deadLettered: #expect(lettered.contains(offset), "\(poison.name) is dead-lettered")
            case .ignored: #expect(!lettered.contains(offset) && !isApplied, "\(poison.name) is ignored")
            case .notApplied: #expect(!isApplied, "\(poison.name) is not applied")
            case .appliedOrDeadLettered: #expect(lettered.contains(offset) != isApplied, "\(poison.name): dead-lettered or applied, exactly one")
            }
        }
        #expect(stored.audit["h-big"] == ["x-big", "7", "1"], "the 5 MB event is applied")
        #expect(try store.rows(ofView: "ledger_audit").rows.count == stored.audit.count, "the audit table survived the SQL in an event type")

        // The valid events equal the reference, computed from them alone.
        let reference = ReferenceLedger.Expected(records: valid.enumerated().map {
            ReferenceLedger.Record(partition: 0, offset: Int64($0.offset), key: $0.element.key, value: Array($0.element.value.utf8))
        })
        #expect(stored.balances.filter { $0.key.hasPrefix("acct-") } == reference.balances)
        #expect(stored.audit.filter { $0.key.hasPrefix("e") } == reference.audit)
        let checkpoints = ReferenceLedger.checkpoints(database: stream.database)
        #expect(checkpoints[0] == Int64(messages.count - 1) && checkpoints[1] == 1)

        // Under on_error: fail the first poison stops the worker with its partition and offset.
        let failing = try TemporaryDatabase()
        let failPipeline = failing.path(named: "ledger.yaml")
        try ReferenceLedger.pipeline(topic: stream.topic, onError: "fail").write(toFile: failPipeline, atomically: true, encoding: .utf8)
        let failed = try Self.runBounded(["run", failPipeline, "--brokers", stream.bootstrapServers, "--db", failing.path, "--exit-at-end",
                                          "--group", stream.fixture.makeGroupID(), "-X", "fetch.message.max.bytes=10000000"])
        #expect(failed.status == 3, "\(failed.stderr)")
        #expect(failed.stderr.contains("partition 0 offset 20"), "\(failed.stderr)")
        #expect(ReferenceLedger.checkpoints(database: failing.path)[0] == 20, "everything before it is committed")
        reportScenario("poison events", faults: Self.poisons.count + 1, events: messages.count, problems: [])
    }

    /// A pipeline file in a temporary directory.
    static func pipelineFile(_ text: String, in directory: TemporaryDatabase, name: String = "p.yaml") throws -> String {
        let path = directory.path(named: name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let base = CountsPipeline.yaml(name: "hostile", topic: "t", set: "n + 1")

    static var hostilePipelines: [(String, String)] {
        var billion = "name: bomb\nversion: 1\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        var previous = "a"
        for letter in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            billion += "\(letter): &\(letter) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n"
            previous = letter
        }
        billion += "source: *i\n"
        let big = base + "# " + String(repeating: "padding ", count: 131_072) + "\n"
        let manyHandlers = base + (0 ..< 8_000).map { "  Type\($0):\n    - upsert: counts\n      key: {id: $key}\n" }.joined()
        return [
            ("a view name with SQL", base.replacingOccurrences(of: "counts: {key", with: "\"counts; drop table x\": {key")),
            ("a column name with SQL", base.replacingOccurrences(of: "n: integer}", with: "\"n) ; DROP TABLE x; --\": integer}")),
            ("a quote in a view name", base.replacingOccurrences(of: "counts: {key", with: "\"co\\\"unts\": {key")),
            ("a YAML alias bomb", billion),
            ("10,000-deep YAML flow nesting", base + "x: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "\n"),
            ("10,000-deep YAML block nesting", base + (0 ..< 10_000).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1\n"),
            ("a 1 MB pipeline of comments", big),
            ("a pipeline of 8,000 handlers", manyHandlers),
            ("binary garbage", String(decoding: (0 ..< 4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }, as: UTF8.self)),
            ("an empty file", ""),
        ]
    }

    @Test("hostile pipeline files: a clear error or a valid pipeline, never a crash or a hang", arguments: 0 ..< 10)
    func hostilePipeline(_ index: Int) throws {
        let (name, text) = Self.hostilePipelines[index]
        let directory = try TemporaryDatabase()
        let path = try Self.pipelineFile(text, in: directory)
        let result = try Self.runBounded(["validate", path], deadline: .seconds(60))
        #expect(!result.wasSignaled, "\(name): crashed with signal \(result.status)")
        #expect(result.status == 0 || result.status == 2, "\(name): \(result.status) \(result.stderr.prefix(500))")
        if result.status == 2 {
            #expect(result.stderr.contains(path) || result.stderr.contains("error"), "\(name): a located error: \(result.stderr.prefix(500))")
        }
        if name.contains("SQL") || name.contains("quote") || name.contains("bomb") || name.contains("garbage") || name.contains("empty") {
            #expect(result.status == 2, "\(name) is rejected at validation")
        }
        #expect(result.stderr.utf8.count < 100_000, "\(name): the error is bounded, not an echo of the input")
    }

    @Test("hostile command lines and databases: clear errors and exit codes")
    func hostileCommandLines() throws {
        let directory = try TemporaryDatabase()
        let pipeline = try Self.pipelineFile(Self.base, in: directory)
        let notSQLite = directory.path(named: "text.sqlite")
        try String(repeating: "not a database\n", count: 100).write(toFile: notSQLite, atomically: true, encoding: .utf8)
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("t", partitions: 1)
        func run(_ extra: [String], db: String) throws -> Outcome {
            try Self.runBounded(["run", pipeline, "--brokers", fixture.bootstrapServers, "--db", db, "--exit-at-end",
                                 "--group", fixture.makeGroupID()] + extra)
        }
        let cases: [(String, Outcome, Int32, String)] = [
            ("--db a text file", try run([], db: notSQLite), 1, "not an SQLite database"),
            ("--db a directory", try run([], db: directory.directory.path), 1, "directory"),
            ("an unknown flag", try Self.runBounded(["run", pipeline, "--brokers", "x:1", "--db", notSQLite, "--frobnicate"]), 2, "frobnicate"),
            ("an unknown -X property", try run(["-X", "no.such.property=1"], db: directory.path(named: "x.sqlite")), 1, "no.such.property"),
            ("a malformed -X", try run(["-X", "=1"], db: directory.path(named: "x.sqlite")), 2, "key=value"),
            ("a negative --busy-timeout", try run(["--busy-timeout", "-1"], db: directory.path(named: "x.sqlite")), 2, "busy-timeout"),
        ]
        for (name, result, status, text) in cases {
            #expect(result.status == status, "\(name): \(result.stderr)")
            #expect(result.stderr.contains(text), "\(name): \(result.stderr)")
            #expect(!result.wasSignaled && result.stderr.split(separator: "\n").count <= 12, "\(name): \(result.stderr)")
        }

        // A db built by another version of the pipeline is refused with a hint to rebuild.
        let built = directory.path(named: "built.sqlite")
        #expect(try run([], db: built).status == 0)
        let changed = try Self.pipelineFile(Self.base.replacingOccurrences(of: "version: 1", with: "version: 2")
            .replacingOccurrences(of: "n: n + 1", with: "n: n + 2"), in: directory, name: "v2.yaml")
        let refused = try Self.runBounded(["run", changed, "--brokers", fixture.bootstrapServers, "--db", built, "--exit-at-end",
                                           "--group", fixture.makeGroupID()])
        #expect(refused.status == 2, "the request cannot run as given (as in verify): \(refused.stderr)")
        #expect(refused.stderr.contains("hint: to rebuild the views with this definition: "), "\(refused.stderr)")

        // An unreachable broker: a clear error after a bounded time.
        let clock = ContinuousClock()
        let started = clock.now
        let unreachable = try Self.runBounded(["run", pipeline, "--brokers", "127.0.0.1:1", "--db", directory.path(named: "u.sqlite"),
                                               "--connect-timeout", "2"], deadline: .seconds(30))
        #expect(unreachable.status == 1, "\(unreachable.stderr)")
        #expect(unreachable.stderr.contains("answered within"), "\(unreachable.stderr)")
        #expect(clock.now - started < .seconds(20))
    }
}
