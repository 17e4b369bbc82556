import Foundation
@testable import Pipelines
import ProjectorModel
import Testing

@Suite("lookup() across views")
struct LookupTests {
    static func owners(_ total: String = "lookup('accounts', $key).owner") -> String {
        """
        name: owners
        version: 1
        source: {topics: [ledger], type: $.t, key: $.a}
        views:
          accounts:
            key: [account_id]
            columns: {account_id: text, owner: text}
          owner_totals:
            key: [owner]
            columns: {owner: text, total: integer}
        on:
          Opened:
            - upsert: accounts
              key: {account_id: $key}
              set: {owner: $.owner}
          Deposited:
            - upsert: owner_totals
              key:
                owner: \(total)
              set: {total: total + $.amount}
        """
    }

    static let events: [TestMessage] = [
        TestMessage(key: "a1", value: #"{"t":"Opened","a":"a1","owner":"ada"}"#, offset: 0),
        TestMessage(key: "a1", value: #"{"t":"Deposited","a":"a1","amount":5}"#, offset: 1),
        TestMessage(key: "a2", value: #"{"t":"Opened","a":"a2","owner":"ada"}"#, offset: 2),
        TestMessage(key: "a2", value: #"{"t":"Deposited","a":"a2","amount":7}"#, offset: 3),
        TestMessage(key: "a9", value: #"{"t":"Deposited","a":"a9","amount":1}"#, offset: 4),
    ]

    @Test("a lookup sees a row written earlier in the same batch; an unknown key finds none")
    func sameBatch() throws {
        let plan = Plan(try pipeline(Self.owners()))
        var store = MemoryStore(plan)
        let result = try run(plan, Self.events, store: &store)
        #expect(store.rows(plan, "owner_totals") == [["owner": .text("ada"), "total": .integer(12)]])
        #expect(result.errors.map(\.code) == [.nullKey])
        #expect(result.errors.first?.offset == 4)
        // The looked-up rows are read, not written: only the rows the operations changed are changes.
        #expect(Set(result.changes.map(\.view)) == [0, 1])
        #expect(result.changes.filter { $0.view == 0 }.count == 2)
    }

    @Test("the same events give the same views whatever the batch boundaries")
    func batchBoundaries() throws {
        let plan = Plan(try pipeline(Self.owners()))
        var whole = MemoryStore(plan)
        try run(plan, Self.events, store: &whole)
        var oneByOne = MemoryStore(plan)
        for event in Self.events { try run(plan, [event], store: &oneByOne) }
        #expect(whole.rows(plan, "owner_totals") == oneByOne.rows(plan, "owner_totals"))
        #expect(whole.rows(plan, "accounts") == oneByOne.rows(plan, "accounts"))
    }

    @Test("lookup() is part of the definition's hash")
    func hash() throws {
        let a = try pipeline(Self.owners())
        let b = try pipeline(Self.owners("lookup( 'accounts' ,  $key ).owner"))
        let c = try pipeline(Self.owners("lookup('accounts', $.a).owner"))
        #expect(a.hash == b.hash)
        #expect(a.hash != c.hash)
    }

    @Test("bad lookups are refused with their position", arguments: [
        ("lookup('acounts', $key).owner", PipelineError.Code.unknownView, "did you mean 'accounts'?"),
        ("lookup('accounts', $key, $key).owner", .missingKeyColumn, "takes 1 key value (account_id), not 2"),
        ("lookup('accounts', $key).ownr", .unknownColumn, "did you mean `owner`?"),
        ("lookup('accounts', total).owner", .keyReadsRow, "reads the event and the message only"),
        ("lookup('accounts', $key)", .invalidExpression, "name the column to read"),
        ("lookup(accounts, $key).owner", .invalidExpression, "the view's name as a 'string' first"),
    ])
    func refused(expression: String, code: PipelineError.Code, message: String) {
        let found = problems(Self.owners(expression))
        let first = found.first
        #expect(first?.code == code, "\(found)")
        #expect(first?.message.contains(message) == true, "\(found)")
        #expect(first?.line == 19)
    }

    @Test("lookup() outside a handler's operations is refused")
    func onlyInOperations() {
        let yaml = Self.owners().replacingOccurrences(of: "key: $.a}", with: "key: \"lookup('accounts', $.a).owner\"}")
        let found = problems(yaml)
        #expect(found.first?.code == .invalidExpression, "\(found)")
        #expect(found.first?.message.contains("only in a handler's operations") == true, "\(found)")
    }
}
