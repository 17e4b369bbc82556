import Foundation
import Pipelines
import Projector
import ProjectorModel
import ProjectorTesting
import ProjectorTestSupport
import Testing

@Suite("Testing a projection without a broker")
struct ProjectionHarnessTests {
    static let ledger = """
        name: ledger
        version: 1
        source: {topics: [deposits], type: $.eventType, key: $.data.account}
        on_error: dead-letter
        views:
          balances:
            key: [account]
            columns: {account: text, balance: integer}
        on:
          Deposited:
            - upsert: balances
              key: {account: $key}
              set: {balance: balance + $.data.amount}
          _tombstone:
            - delete: balances
              key: {account: $key}
        """

    static func deposit(_ account: String, _ amount: String) -> TestMessage {
        TestMessage(#"{"eventType":"Deposited","data":{"account":"\#(account)","amount":\#(amount)}}"#, key: account)
    }

    @Test("a YAML pipeline's rows, dead letters and checkpoints come back as the worker writes them")
    func yamlPipeline() throws {
        let harness = try ProjectionHarness(yaml: Self.ledger)
        let batch = try harness.send([Self.deposit("a", "300"), Self.deposit("b", "5"), Self.deposit("a", "\"x\""), Self.deposit("a", "200")])
        #expect(batch.counters.applied == 3)
        #expect(batch.counters.deadLettered == 1)
        #expect(try harness.row("balances", key: .text("a"))?["balance"] == .integer(500))
        #expect(try harness.rows("balances").map { $0["account"] } == [.text("a"), .text("b")])
        let letters = try harness.deadLetters()
        #expect(letters.map(\.letter.offset) == [2])
        #expect(try harness.checkpoints() == [Checkpoint(topic: "deposits", partition: 0, nextOffset: 4)])

        try harness.send(TestMessage(tombstoneFor: "b"))
        #expect(try harness.row("balances", key: .text("b")) == nil)
        #expect(try harness.checkpoints() == [Checkpoint(topic: "deposits", partition: 0, nextOffset: 5)])
    }

    @Test("README's example: the order_summary pipeline from its file")
    func readmeExample() throws {
        let path = ProjectorExecutable.repositoryRoot.appendingPathComponent("pipelines/order_summary.yaml").path
        let harness = try ProjectionHarness(pipelineAt: path)
        try harness.send([
            TestMessage(#"{"eventType":"OrderCreated","data":{"orderId":"o1","customerId":"c1","totalAmount":10,"items":[]}}"#, key: "o1"),
            TestMessage(tombstoneFor: "o2"),
        ])
        #expect(try harness.row("order_summary", key: .text("o1"))?["status"] == .text("created"))
        #expect(try harness.deadLetters().isEmpty)
    }

    @Test("ledger: a deposit without amount is a schema dead letter, not a null balance; the account's later events wait behind it")
    func ledgerDepositWithoutAmount() throws {
        let path = ProjectorExecutable.repositoryRoot.appendingPathComponent("pipelines/ledger/ledger.yaml").path
        let harness = try ProjectionHarness(pipelineAt: path)
        func event(_ id: String, _ data: String) -> TestMessage {
            TestMessage(#"{"eventId":"\#(id)","eventType":"MoneyDeposited","data":{"accountId":"a",\#(data)}}"#, key: "a")
        }
        try harness.send([event("e1", #""amount":300"#), event("e2", #""note":"no amount""#), event("e3", #""amount":200"#)])
        #expect(try harness.row("accounts", key: .text("a"))?["balance"] == .integer(300))
        let letters = try harness.deadLetters()
        #expect(letters.map(\.letter.offset) == [1, 2])
        #expect(letters.first?.letter.error.hasPrefix("schema") == true)
    }

    @Test("owners: a deposit for an account not opened yet waits as a dead letter; once the account is opened, dlq replay applies it once")
    func ownersReplayAfterTheAccountOpens() throws {
        let path = ProjectorExecutable.repositoryRoot.appendingPathComponent("pipelines/ledger/owners.yaml").path
        let harness = try ProjectionHarness(pipelineAt: path)
        try harness.send(TestMessage(#"{"eventType":"MoneyDeposited","data":{"accountId":"a-1","amount":40}}"#, key: "a-1"))
        #expect(try harness.deadLetters().count == 1)
        #expect(try harness.rows("owner_totals").isEmpty)
        try harness.send(TestMessage(#"{"eventType":"AccountOpened","data":{"accountId":"a-1","owner":"ada"}}"#, key: "a-1"))
        let outcome = try DeadLetterReplay(projection: harness.projection, store: harness.store).run()
        #expect(outcome.replayed.count == 1 && outcome.stillFailing.isEmpty)
        #expect(try harness.row("owner_totals", key: .text("ada"))?["total"] == .integer(40))
        #expect(try harness.deadLetters().isEmpty)
        #expect(try DeadLetterReplay(projection: harness.projection, store: harness.store).run().replayed.isEmpty)
        #expect(try harness.row("owner_totals", key: .text("ada"))?["total"] == .integer(40))
    }

    @Test("a message on a topic the pipeline does not read is refused")
    func unknownTopic() throws {
        let harness = try ProjectionHarness(yaml: Self.ledger)
        let error = try #require(throws: ProjectorError.self) {
            try harness.send(TestMessage("{}", topic: "withdrawals"))
        }
        #expect(error.code == .usage)
        #expect(error.message.contains("withdrawals"))
    }

    struct Totals: CodeProjection {
        struct Payload: Decodable, Sendable { var account: String; var amount: Int64 }
        let name = "totals"
        let version = 1
        let topics = ["deposits"]
        let views = [ViewDefinition(name: "totals", columns: [
            ColumnDefinition(name: "account", type: .text, defaultValue: .null),
            ColumnDefinition(name: "total", type: .integer, defaultValue: .integer(0)),
        ], keyColumns: [0])]

        func apply(_ event: DecodedEvent<Payload>, to views: inout ViewEditor) throws {
            try views.upsert("totals", key: [.text(event.payload.account)]) { row in
                guard case .integer(let total) = row["total"] else { return }
                row["total"] = .integer(total + event.payload.amount)
            }
        }
    }

    @Test("a projection written in Swift runs the same way")
    func codeProjection() throws {
        let harness = try ProjectionHarness(SwiftProjection(Totals()))
        try harness.send([Self.deposit("a", "2"), Self.deposit("a", "3")])
        #expect(try harness.row("totals", key: .text("a"))?["total"] == .integer(5))
    }
}
