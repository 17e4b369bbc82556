import ProjectorTestSupport
import ArgumentParser
import Foundation
import KafkaClient
import ProjectorTesting
import ProjectorTools
import Testing
@testable import ProjectorCLI

/// The commands of issue 17: `test`, `validate --events`, pasteable hints, one exit-code rule,
/// `produce --keyed`, `dev-broker --count`, `rebuild --until` before the first record.
@Suite("Pipeline language commands, end to end")
struct LanguageCommandTests {
    static let root = ProjectorExecutable.repositoryRoot

    static func write(_ text: String, in directory: TemporaryDatabase, named name: String) throws -> String {
        let path = directory.directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let ledger = """
        name: ledger
        version: 1
        source: {topics: [ledger], type: $.eventType, key: $.data.accountId}
        on_error: dead-letter
        events:
          MoneyDeposited: {required: {$.data.accountId: string}}
        views:
          accounts:
            key: [account_id]
            columns: {account_id: text, balance: {type: integer, not_null: true}}
        on:
          MoneyDeposited:
            - upsert: accounts
              key: {account_id: $key}
              set: {balance: balance + $.data.amount}
        """

    @Test("projector test pipelines/ passes; a wrong expectation prints a diff and exits 1; an invalid test exits 2")
    func testCommand() throws {
        let passing = try ProjectorExecutable.run(["test", "pipelines/"])
        #expect(passing.status == 0, "\(passing.stdout)\(passing.stderr)")
        #expect(!passing.stdout.contains("no tests"), "every example pipeline has tests")
        #expect(passing.stdout.contains("0 failed"))

        let directory = try TemporaryDatabase()
        let file = try Self.write(Self.ledger, in: directory, named: "ledger.yaml")
        _ = try Self.write("""
            tests:
              - name: the deposit without amount is a dead letter
                given:
                  - value: {eventType: MoneyDeposited, data: {accountId: a, amount: 300}}
                  - value: {eventType: MoneyDeposited, data: {accountId: a}}
                  - value: {eventType: MoneyDeposited, data: {accountId: a, amount: 200}}
                expect:
                  accounts: [{account_id: a, balance: 400}]
                  dead_letters: [{message: 2, reason: not_null}]
            """, in: directory, named: "ledger.test.yaml")
        let failing = try ProjectorExecutable.run(["test", file])
        #expect(failing.status == 1)
        #expect(failing.stdout.contains("FAIL ledger: the deposit without amount is a dead letter"))
        #expect(failing.stdout.contains("accounts (account_id: 'a'): balance: expected 400, got 500"), "\(failing.stdout)")

        _ = try Self.write("tests:\n  - name: x\n    given: [{vale: 1}]\n    expect: {}\n", in: directory, named: "ledger.test.yaml")
        let invalid = try ProjectorExecutable.run(["test", file])
        #expect(invalid.status == 2)
        #expect(invalid.stderr.contains("ledger.test.yaml:3:14: unknown key `vale`"), "\(invalid.stderr)")
    }

    @Test("validate --events: rows, unhandled types, idle handlers and each event error with its line; exit 1")
    func dryRun() throws {
        let directory = try TemporaryDatabase()
        let file = try Self.write(Self.ledger, in: directory, named: "ledger.yaml")
        let events = try Self.write("""
            {"eventType":"MoneyDeposited","data":{"accountId":"a","amount":300}}

            {"eventType":"MoneyDeposited","data":{"accountId":"a"}}
            {"eventType":"MoneyDeposited","data":{"amount":1}}
            {"eventType":"AccountOpened","data":{"accountId":"b"}}
            """, in: directory, named: "events.jsonl")
        let result = try ProjectorExecutable.run(["validate", file, "--events", events])
        #expect(result.status == 1)
        #expect(result.stdout.contains("view accounts: 1 row(s)"))
        #expect(result.stdout.contains("event types without a handler: AccountOpened (1)"))
        #expect(result.stdout.contains("handlers never triggered: none"))
        #expect(result.stdout.contains("events.jsonl:3: notNull:"), "\(result.stdout)")
        #expect(result.stdout.contains("events.jsonl:4: schema: `$.data.accountId` is missing"), "\(result.stdout)")
    }

    @Test("findings 3 and 4: a changed definition exits 2 in run as in verify, with a rebuild command that works as printed")
    func definitionChangedHint() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("ledger", partitions: 1)
        let directory = try TemporaryDatabase()
        let database = directory.path
        let first = try Self.write(Self.ledger, in: directory, named: "ledger.yaml")
        let common = ["--brokers", fixture.bootstrapServers, "--db", database]
        let built = try ProjectorExecutable.run(["run", first] + common + ["--exit-at-end"])
        #expect(built.status == 0, "\(built.stderr)")

        let second = try Self.write(Self.ledger.replacingOccurrences(of: "version: 1", with: "version: 2")
            .replacingOccurrences(of: "balance + $.data.amount", with: "balance + 2 * $.data.amount"), in: directory, named: "ledger-v2.yaml")
        let refused = try ProjectorExecutable.run(["run", second] + common + ["--exit-at-end", "-X", "fetch.wait.max.ms=50"])
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(!refused.stderr.contains("run `projector rebuild ledger`"))
        let prefix = "hint: to rebuild the views with this definition: "
        let hint = try #require(refused.stderr.split(separator: "\n").first { $0.hasPrefix(prefix) }).dropFirst(prefix.count)
        #expect(hint.contains("rebuild") && hint.contains(second) && hint.contains("--db") && hint.contains("-X fetch.wait.max.ms=50"))

        let verified = try ProjectorExecutable.run(["verify", second] + common)
        #expect(verified.status == 2, "the same situation, the same exit code")

        let pasted = Process()
        pasted.executableURL = URL(fileURLWithPath: "/bin/sh")
        pasted.arguments = ["-c", String(hint)]
        pasted.standardError = FileHandle.nullDevice
        try pasted.run()
        pasted.waitUntilExit()
        #expect(pasted.terminationStatus == 0, "the hint runs as printed: \(hint)")
        let after = try ProjectorExecutable.run(["run", second] + common + ["--exit-at-end"])
        #expect(after.status == 0, "\(after.stderr)")
    }

    @Test("finding 7: rebuild --until a time before the first record says what the record timestamps span")
    func untilBeforeFirstRecord() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("ledger", partitions: 1)
        let producer = try KafkaProducer(configuration: fixture.producerConfiguration())
        let value = Array(#"{"eventType":"MoneyDeposited","data":{"accountId":"a","amount":1}}"#.utf8)
        try value.withUnsafeBytes { try producer.send(topic: "ledger", key: nil, value: $0) }
        try producer.flush(timeout: .seconds(10))
        let directory = try TemporaryDatabase()
        let file = try Self.write(Self.ledger, in: directory, named: "ledger.yaml")
        let result = try ProjectorExecutable.run(
            ["rebuild", file, "--brokers", fixture.bootstrapServers, "--into", directory.path, "--until", "2001-01-01T00:00:00Z"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("before the oldest record"), "\(result.stderr)")
        #expect(result.stderr.contains("Kafka record timestamp"))
        #expect(result.stderr.contains("the records' timestamps span"))
    }

    @Test("finding 6: produce takes alternative key paths and kcat-like keyed lines, an empty value being a tombstone")
    func produceKeys() throws {
        let lines = Array("""
            {"data":{"sku":"S-1"}}
            {"data":{"orderId":"o-1"}}
            """.utf8)
        let alternatives = try ProduceCommand.validate(lines, keyPaths: [["data", "sku"], ["data", "orderId"]], keyPathText: "")
        #expect(alternatives.map { $0.key.map { String(decoding: $0, as: UTF8.self) } } == ["S-1", "o-1"])

        let keyed = Array("S-1\t{\"eventType\":\"InventoryRestocked\"}\nS-1\t\n".utf8)
        let events = try ProduceCommand.validate(keyed, keyPaths: [], keyPathText: "", keyed: true)
        #expect(events.count == 2)
        #expect(events[1].value == nil, "an empty value is a tombstone")
        #expect(events.allSatisfy { $0.key == Array("S-1".utf8) })
        #expect(events[0].value.map { String(decoding: keyed[$0], as: UTF8.self) } == #"{"eventType":"InventoryRestocked"}"#)
        #expect(throws: (any Error).self) { try ProduceCommand.validate(Array("no tab\n".utf8), keyPaths: [], keyPathText: "", keyed: true) }
    }

    @Test("finding 8: dev-broker --count N, and --brokers N still works as the old spelling")
    func devBrokerCount() throws {
        let counted = try #require(try ProjectorCommand.parseAsRoot(["dev-broker", "--count", "2"]) as? DevBrokerCommand)
        #expect(counted.count == 2)
        let old = try #require(try ProjectorCommand.parseAsRoot(["dev-broker", "--brokers", "1"]) as? DevBrokerCommand)
        #expect(old.brokers == 1)
        #expect(throws: (any Error).self) { try ProjectorCommand.parseAsRoot(["dev-broker", "--count", "1", "--brokers", "1"]) }
    }

    @Test("finding 9 and 4: README's command table lists every command and the exit-code rule is documented")
    func documentation() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        for command in ["rebuild", "verify", "reset", "bench", "test", "run", "status", "dlq", "validate", "dev-broker", "produce", "demo"] {
            #expect(readme.contains("| `projector \(command)"), "README lacks \(command)")
        }
        let help = ProjectorCommand.helpMessage()
        #expect(help.contains("one rule for every command"))
        #expect(readme.contains("one rule for every command"))
    }
}
