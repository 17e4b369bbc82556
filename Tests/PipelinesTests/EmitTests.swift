import Foundation
import Testing
@testable import Pipelines
import ProjectorModel

/// `emit:` operations: validation with positions, the outbox rows a batch writes, all or nothing per event.
@Suite struct EmitTests {
    static let emitHeader = header + """
        emit_topics: [commands]
        views: {v: {key: [id], columns: {id: text, n: integer}}}

        """

    static let cases: [InvalidCase] = [
        InvalidCase(name: "emit to an undeclared topic", yaml: emitHeader + """
            on:
              E:
                - emit: {topic: ‸comands, key: $key, value: {a: 1}}
            """, code: .unknownTopic, messageContains: "did you mean `commands`?"),
        InvalidCase(name: "emit without emit_topics", yaml: header + """
            views: {v: {key: [id], columns: {id: text}}}
            on:
              E:
                - emit: {topic: ‸commands, value: {a: 1}}
            """, code: .unknownTopic, messageContains: "emit_topics: [commands]"),
        InvalidCase(name: "emit without value", yaml: emitHeader + """
            on:
              E:
                - emit: ‸{topic: commands}
            """, code: .missingKey, messageContains: "needs `value`"),
        InvalidCase(name: "a bad expression deep in the template", yaml: emitHeader + """
            on:
              E:
                - emit:
                    topic: commands
                    value: {a: {b: [1, "$.x +‸"]}}
            """, code: .invalidExpression, messageContains: "`emit.value.a.b[1]`"),
        InvalidCase(name: "an emit reads no row", yaml: emitHeader + """
            on:
              E:
                - emit: {topic: commands, value: {n: ‸n}}
            """, code: .keyReadsRow, messageContains: "lookup('view', $key)"),
        InvalidCase(name: "a lookup of an unknown view", yaml: emitHeader + """
            on:
              E:
                - emit: {topic: commands, value: {n: "‸lookup('w', $key).n"}}
            """, code: .unknownView),
        InvalidCase(name: "unknown emit key", yaml: emitHeader + """
            on:
              E:
                - emit: {topic: commands, value: 1, ‸header: {a: "'b'"}}
            """, code: .unknownKey, messageContains: "did you mean `headers`?"),
        InvalidCase(name: "a reserved header", yaml: emitHeader + """
            on:
              E:
                - emit: {topic: commands, value: 1, headers: {‸projector.id: "'x'"}}
            """, code: .invalidValue, messageContains: "set by Projector"),
        InvalidCase(name: "a boolean key", yaml: emitHeader + """
            on:
              E:
                - emit: {topic: commands, key: ‸true, value: 1}
            """, code: .typeMismatch),
        InvalidCase(name: "a non-boolean when", yaml: emitHeader + """
            on:
              E:
                - emit: {topic: commands, value: 1}
                  when: ‸$key
            """, code: .typeMismatch),
        InvalidCase(name: "emit to a source topic", yaml: header + """
            emit_topics: [‸orders]
            views: {v: {key: [id], columns: {id: text}}}
            on: {}
            """, code: .invalidValue, messageContains: "also a source topic"),
    ]

    @Test(arguments: cases)
    func reportsCodeAndPosition(_ testCase: InvalidCase) throws {
        try testCase.expectFirstProblem()
    }

    static let yaml = emitHeader + """
        on_error: skip
        on:
          E:
            - upsert: v
              key: {id: $key}
              set:
                n: coalesce(n, 0) + 1
            - emit:
                topic: commands
                key: $key
                value: {type: "'Did'", n: "lookup('v', $key).n", tags: [$.tag, "upper($.tag)"], nothing: null}
                headers: {trace: $.trace, absent: $.missing}
            - emit: {topic: commands, value: {second: true}}
              when: $.twice
        """

    @Test func writesOneOutboxRowPerEmitWithADeterministicID() throws {
        let plan = Plan(try pipeline(Self.yaml))
        let outbox = try #require(plan.outboxView)
        #expect(plan.views[outbox] == Outbox.definition(pipeline: "t"))
        var store = MemoryStore(plan)
        try run(plan, [
            TestMessage(key: "a", value: #"{"eventType":"E","tag":"x","trace":"t-1","twice":true}"#, offset: 7),
            TestMessage(key: "a", value: #"{"eventType":"E","tag":"y\"q"}"#, offset: 8),
        ], store: &store)
        let rows = store.rows(plan, Outbox.tableName(pipeline: "t"))
        #expect(rows.count == 3)
        let first = try #require(rows.first { $0["source_offset"] == .integer(7) && $0["emit"] == .integer(0) })
        #expect(first["id"] == .text("t/orders/0/7/0"))
        #expect(first["topic"] == .text("commands"))
        #expect(first["key"] == .text("a"))
        #expect(first["value"] == .text(#"{"type":"Did","n":1,"tags":["x","X"],"nothing":null}"#))
        #expect(first["headers"] == .text(#"{"trace":"t-1"}"#), "a null header is left out")
        #expect(first["timestamp"] == .integer(1_700_000_000_000))
        #expect(rows.contains { $0["source_offset"] == .integer(7) && $0["emit"] == .integer(1) && $0["key"] == .null })
        let second = try #require(rows.first { $0["source_offset"] == .integer(8) })
        #expect(second["value"] == .text(#"{"type":"Did","n":2,"tags":["y\"q","Y\"Q"],"nothing":null}"#), "escapes stay valid JSON")
        #expect(second["headers"] == .null)
        for row in rows {
            guard case .text(let json) = row["value"] else { Issue.record("no value"); continue }
            #expect((try? JSONSerialization.jsonObject(with: Data(json.utf8))) != nil, "\(json)")
        }
    }

    @Test func aFailingValueEmitsNothingOfItsEvent() throws {
        let plan = Plan(try pipeline(Self.yaml))
        var store = MemoryStore(plan)
        // upper() of an object fails after the row and the first emit's key were evaluated.
        let result = try run(plan, [
            TestMessage(key: "a", value: #"{"eventType":"E","tag":"x"}"#, offset: 0),
            TestMessage(key: "a", value: #"{"eventType":"E","tag":{"o":1},"twice":true}"#, offset: 1),
        ], store: &store)
        #expect(result.counters.skipped == 1)
        #expect(result.errors.first?.message.contains("`value.tags[1]` of `emit: commands`") == true, "\(result.errors)")
        #expect(store.rows(plan, Outbox.tableName(pipeline: "t")).map { $0["source_offset"] } == [.integer(0)])
        #expect(store.rows(plan, "v").first?["n"] == .integer(1), "the failed event's row change is undone too")
    }

    @Test func emitsAreInTheHashAndAPipelineWithoutThemKeepsItsHash() throws {
        let base = try pipeline(Self.yaml)
        let changed = try pipeline(Self.yaml.replacingOccurrences(of: "second: true", with: "second: false"))
        #expect(base.hash != changed.hash)
        let renamed = try pipeline(Self.yaml.replacingOccurrences(of: "[commands]", with: "[commands, other]"))
        #expect(base.hash != renamed.hash)
        let plain = header + "views: {v: {key: [id], columns: {id: text}}}\non: {}\n"
        #expect(try pipeline(plain).emitTopics.isEmpty)
        #expect(Plan(try pipeline(plain)).outboxView == nil)
    }
}
