import Foundation
import Testing
@testable import Pipelines
import ProjectorModel

/// `events:` and `not_null`: the means to say "this must be there" (issue 17, finding 1 and 2).
@Suite("Declared events and not_null columns")
struct EventContractTests {
    static func ledger(columns: String = "{account_id: text, balance: integer}", extra: String = "", onError: String = "dead-letter") throws -> Plan {
        Plan(try pipeline("""
            name: ledger
            version: 1
            source: {topics: [ledger], type: $.eventType, key: $.data.accountId}
            on_error: \(onError)
            \(extra)
            views:
              accounts:
                key: [account_id]
                columns: \(columns)
            on:
              MoneyDeposited:
                - upsert: accounts
                  key: {account_id: $key}
                  set: {balance: balance + $.data.amount}
            """))
    }

    static let deposits = [
        TestMessage(key: "a", value: #"{"eventType":"MoneyDeposited","data":{"accountId":"a","amount":300}}"#, offset: 0),
        TestMessage(key: "a", value: #"{"eventType":"MoneyDeposited","data":{"accountId":"a"}}"#, offset: 1),
        TestMessage(key: "a", value: #"{"eventType":"MoneyDeposited","data":{"accountId":"a","amount":200}}"#, offset: 2),
    ]

    @Test("finding 1: without a declaration a deposit without amount nulls the balance for good (the documented null rules)")
    func undeclaredNullsTheBalance() throws {
        let plan = try Self.ledger()
        var store = MemoryStore(plan)
        let result = try run(plan, Self.deposits, store: &store)
        #expect(result.errors.isEmpty)
        #expect(store.rows(plan, "accounts").first?["balance"] == .null)
    }

    @Test("finding 1: not_null makes the deposit without amount an event error; the balance is 500")
    func notNullFailsTheEvent() throws {
        let plan = try Self.ledger(columns: "{account_id: text, balance: {type: integer, not_null: true}}")
        var store = MemoryStore(plan)
        let result = try run(plan, Self.deposits, store: &store)
        #expect(result.errors.map(\.offset) == [1])
        #expect(result.errors.first?.code == .notNull)
        #expect(result.errors.first?.message.contains("balance") == true)
        #expect(store.rows(plan, "accounts").first?["balance"] == .integer(500))
    }

    @Test("finding 1: events: requires the amount; its absence or a wrong type is an event error with code schema")
    func declaredEventsCheckPaths() throws {
        let plan = try Self.ledger(extra: """
            events:
              MoneyDeposited: {required: {$.data.accountId: string, $.data.amount: number}}
            """)
        var store = MemoryStore(plan)
        var messages = Self.deposits
        messages.append(TestMessage(key: "a", value: #"{"eventType":"MoneyDeposited","data":{"accountId":"a","amount":"7"}}"#, offset: 3))
        let result = try run(plan, messages, store: &store)
        #expect(result.errors.map(\.offset) == [1, 3])
        #expect(result.errors.allSatisfy { $0.code == .schema })
        #expect(result.errors[0].message.contains("$.data.amount") && result.errors[0].message.contains("missing"))
        #expect(result.errors[1].message.contains("text, not number"))
        #expect(store.rows(plan, "accounts").first?["balance"] == .integer(500))
    }

    @Test("finding 2: with events:, a handler of an undeclared type is a validation error with a did-you-mean")
    func undeclaredHandler() throws {
        let found = problems("""
            name: ledger
            version: 1
            source: {topics: [ledger], type: $.eventType}
            events:
              MoneyDeposited: {required: {$.data.amount: number}}
            views:
              accounts: {key: [id], columns: {id: text, balance: integer}}
            on:
              MoneyDeposted:
                - upsert: accounts
                  key: {id: $key}
                  set: {balance: balance + $.data.amount}
            """)
        #expect(found.count == 1)
        #expect(found.first?.line == 9)
        #expect(found.first?.message.contains("did you mean `MoneyDeposited`?") == true)
    }

    @Test("finding 2: a handler whose spelling differs from an upcast's by a typo is reported at the handler")
    func handlerUpcastTypo() throws {
        let found = problems("""
            name: ledger
            version: 1
            source: {topics: [ledger], type: $.eventType, version: $.version}
            views:
              accounts: {key: [id], columns: {id: text, balance: integer}}
            upcast:
              MoneyDeposited:
                - from: 1
                  rename: {$.data.amt: $.data.amount}
            on:
              MoneyDeposted:
                - upsert: accounts
                  key: {id: $key}
                  set: {balance: balance + $.data.amount}
            """)
        #expect(found.contains { $0.line == 11 && $0.message.contains("typo") && $0.message.contains("MoneyDeposited") })
    }

    @Test("events: rejects unknown JSON types and malformed paths, at their position")
    func invalidDeclarations() {
        let found = problems("""
            name: ledger
            version: 1
            source: {topics: [ledger], type: $.eventType}
            events:
              MoneyDeposited: {required: {$.data.amount: numbr, $.data..x: string}}
            views:
              accounts: {key: [id], columns: {id: text, balance: {type: integer, not_null: yes}}}
            on:
              MoneyDeposited:
                - upsert: accounts
                  key: {id: $key}
            """)
        #expect(found.contains { $0.code == .unknownType && $0.message.contains("did you mean `number`?") && $0.line == 5 })
        #expect(found.contains { $0.code == .invalidPath && $0.line == 5 })
        #expect(found.contains { $0.message.contains("not_null") && $0.line == 7 })
    }

    @Test("the hash changes only when events: or not_null is set")
    func hashOnlyWhenSet() throws {
        let plain = try Self.ledger().pipeline.hash
        #expect(try Self.ledger(columns: "{account_id: text, balance: {type: integer}}").pipeline.hash == plain)
        #expect(try Self.ledger(columns: "{account_id: text, balance: {type: integer, not_null: false}}").pipeline.hash == plain)
        #expect(try Self.ledger(columns: "{account_id: text, balance: {type: integer, not_null: true}}").pipeline.hash != plain)
        #expect(try Self.ledger(extra: "events: {MoneyDeposited: {required: {$.data.amount: number}}}").pipeline.hash != plain)
        let withTests = try Self.ledger(extra: """
            tests:
              - name: one deposit
                given: [{value: {eventType: MoneyDeposited, data: {accountId: a, amount: 1}}}]
                expect: {accounts: [{account_id: a, balance: 1}]}
            """)
        #expect(withTests.pipeline.hash == plain, "tests do not change what runs")
        #expect(withTests.pipeline.tests.first?.given.first?.value == #"{"eventType":"MoneyDeposited","data":{"accountId":"a","amount":1}}"#)
    }
}
