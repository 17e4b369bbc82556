import Foundation
import Testing
@testable import Pipelines
import ProjectorModel

/// `dead_letter: {park_key, topic}`: validation with positions, the hash, and parking in the plan.
@Suite struct DeadLetterSettingsTests {
    static func yaml(onError: String? = "dead-letter", deadLetter: String) -> String {
        """
        name: t
        version: 1
        source: {topics: [orders], type: $.eventType}
        \(onError.map { "on_error: \($0)" } ?? "# no on_error")
        dead_letter:
        \(deadLetter)
        views: {v: {key: [id], columns: {id: text, n: integer}}}
        on: {E: [{upsert: v, key: {id: $key}, set: {n: n + $.by}}]}
        """
    }

    @Test func parsesParkKeyAndTopic() throws {
        let p = try pipeline(Self.yaml(deadLetter: "  park_key: true\n  topic: orders.dlq"))
        #expect(p.deadLetter == DeadLetterSettings(parksKey: true, topic: "orders.dlq"))
    }

    @Test("each problem with its line and column", arguments: [
        ("  park_key: true", "fail", PipelineError.Code.invalidValue, 6, 3, "applies only to `on_error: dead-letter`"),
        ("  park_key: yes please", "dead-letter", .invalidValue, 6, 13, "must be true or false"),
        ("  parkkey: true", "dead-letter", .unknownKey, 6, 3, "did you mean `park_key`?"),
        ("  topic: orders/dlq", "dead-letter", .invalidName, 6, 10, "not a valid Kafka topic name"),
        ("  topic: " + String(repeating: "t", count: 250), "dead-letter", .invalidName, 6, 10, "1 to 249 characters"),
        ("  topic: orders", "dead-letter", .invalidValue, 6, 10, "is a source topic"),
    ])
    func problemsHavePositions(deadLetter: String, onError: String, code: PipelineError.Code, line: Int, column: Int, text: String) {
        let found = problems(Self.yaml(onError: onError, deadLetter: deadLetter))
        #expect(found.count == 1, "\(found)")
        let first = found.first
        #expect(first?.code == code)
        #expect(first?.line == line && first?.column == column, "\(String(describing: first))")
        #expect(first?.message.contains(text) == true, "\(String(describing: first?.message))")
    }

    @Test func deadLetterWithoutAnyOnErrorIsAnError() {
        let found = problems(Self.yaml(onError: nil, deadLetter: "  topic: orders.dlq"))
        #expect(found.first?.code == .invalidValue)
        #expect(found.first?.message.contains("on_error is not given") == true)
        #expect(found.first?.line == 6 && found.first?.column == 3)
    }

    @Test func hashChangesOnlyWhenSet() throws {
        let without = """
            name: t
            version: 1
            source: {topics: [orders], type: $.eventType}
            on_error: dead-letter
            views: {v: {key: [id], columns: {id: text, n: integer}}}
            on: {E: [{upsert: v, key: {id: $key}, set: {n: n + $.by}}]}
            """
        let base = try pipeline(without)
        #expect(!base.canonicalText.contains("dead_letter"))
        // The canonical text of a pipeline without `dead_letter` is what it was before the key existed.
        #expect(base.hash == DefinitionHash.hex(of: base.canonicalText))
        #expect(base.canonicalText.hasSuffix("on \"E\"\n  upsert v key=$key when=-\n    set n=(n + $.by)\n"))
        #expect(try pipeline(without + "\ndead_letter: {park_key: false}").hash == base.hash)
        #expect(try pipeline(without + "\ndead_letter: {}").hash == base.hash)
        let parked = try pipeline(without + "\ndead_letter: {park_key: true}")
        let topic = try pipeline(without + "\ndead_letter: {topic: orders.dlq}")
        #expect(Set([base.hash, parked.hash, topic.hash]).count == 3)
    }

    @Test func examplePipelinesKeepTheirHashes() throws {
        // None of the examples sets `dead_letter`, so their canonical text and hash are what they
        // were before the key existed.
        let pipelines = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent("pipelines").path)
            .filter { $0.hasSuffix(".yaml") }
        var hashes: [String: String] = [:]
        for file in pipelines {
            let p = try Pipeline.load(path: repositoryRoot.appendingPathComponent("pipelines/\(file)").path)
            #expect(!p.deadLetter.isSet)
            #expect(!p.canonicalText.contains("dead_letter"))
            hashes[file] = p.hash
        }
        #expect(hashes == [
            "audit_trail.yaml": "50c8bb25f30cb66428f90eb947c762ec30d8cedd8c498fe0dac387e576e8c1c1",
            "customer_stats.yaml": "af6a51691b191a004584e3b5b8f9d6eb399760963896edf7c19ae1dcf1b13ca3",
            "inventory.yaml": "798ad9e86bf8bae1a4d43af55152f9eed16b7665e7117d886fe358b7abe8641b",
            "order_saga.yaml": "4e382e9e3c9ad3352dddb460de10795d9ecdd6cb0ac01c7ed2bd264621b9fb4d",
            "order_saga_reactor.yaml": "ba68020b6216a21bd14ddcbbda42b344aa1a517262498e9f014b57b622b67e9b",  // since its payment timeout (issue 18)
            "order_summary.yaml": "00f4761f730085ac7a7bc74844bf923aeea73ca870832c298260f0dc722be9ed",
        ])
    }

    @Test func parkedKeyHoldsLaterEventsOfThatKeyOnly() throws {
        let plan = try counterPipeline(onError: "dead-letter", extra: "dead_letter: {park_key: true}")
        #expect(plan.views.map(\.name) == ["c", "_projector_parked_counts"])
        #expect(plan.parkedKeysView == 1)
        var store = MemoryStore(plan)
        var messages = [event("Add", "a", #""by":1"#), event("Add", "a", #""by":"bad""#), event("Add", "a", #""by":2"#),
                        event("Add", "b", #""by":5"#), TestMessage(key: "a", value: "{broken"), event("Add", "b", #""by":1"#)]
        for index in messages.indices { messages[index].offset = Int64(index) }
        let result = try run(plan, messages, store: &store)
        #expect(result.counters.applied == 3)
        #expect(result.counters.deadLettered == 3)
        #expect(result.counters.parked == 2)
        #expect(result.errors.map(\.offset) == [1, 2, 4])
        #expect(result.errors.map(\.key) == ["a", "a", "a"])
        #expect(result.errors.map(\.code) == [.typeMismatch, .parked, .parked])
        #expect(result.errors[1].message.contains("key a is parked behind the dead letter at orders/0/1"))
        #expect(store.tables[0][[.text("a")]]?[1] == .integer(1))
        #expect(store.tables[0][[.text("b")]]?[1] == .integer(6))
        #expect(store.tables[1] == [[.text("a")]: [.text("a"), .text("orders"), .integer(0), .integer(1)]])

        // The next batch still holds `a` (the parked row is read from the store).
        let later = try run(plan, [event("Add", "a", #""by":1"#)], store: &store)
        #expect(later.errors.map(\.code) == [.parked])
        #expect(store.tables[0][[.text("a")]]?[1] == .integer(1))
    }

    @Test func anEventWithoutKeyIsDeadLetteredAlone() throws {
        let plan = try counterPipeline(onError: "dead-letter", extra: "dead_letter: {park_key: true}")
        var store = MemoryStore(plan)
        let result = try run(plan, [TestMessage(key: nil, value: "{broken"), event("Add", "a", #""by":1"#)], store: &store)
        #expect(result.errors.map(\.key) == [nil])
        #expect(result.counters.applied == 1)
        #expect(store.tables[1].isEmpty)
    }
}
