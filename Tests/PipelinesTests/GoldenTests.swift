import Foundation
import Testing
@testable import Pipelines
import ProjectorModel

/// Sample events → plan → the expected rows beside them (`pipelines/samples/<pipeline>.expected.json`).
///
/// The samples are one file per topic; the golden run merges them by envelope timestamp (ties keep
/// file order), keys each message by its aggregate id (`data.orderId`; `data.sku` first on the
/// inventory topic), and numbers offsets per topic from 0. Set PROJECTOR_UPDATE_GOLDEN=1 to rewrite
/// the expected files, then review the diff.
@Suite struct GoldenTests {
    static let pipelineFiles: [String] = {
        let dir = repositoryRoot.appendingPathComponent("pipelines")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted()
    }()

    @Test func everyExampleIsPresent() {
        #expect(Self.pipelineFiles == ["audit_trail.yaml", "customer_stats.yaml", "inventory.yaml", "order_saga.yaml", "order_saga_reactor.yaml", "order_summary.yaml"])
    }

    @Test(arguments: pipelineFiles)
    func exampleValidates(_ file: String) throws {
        let pipeline = try Pipeline.load(path: repositoryRoot.appendingPathComponent("pipelines/\(file)").path)
        #expect(pipeline.name + ".yaml" == file)
        #expect(Set(pipeline.topics).isSubset(of: ["orders", "payments", "inventory"]))
    }

    struct Sample {
        var topic: String
        var offset: Int
        var key: String?
        var value: String
        var timestamp: String
    }

    static func samples() throws -> [Sample] {
        var all: [Sample] = []
        for topic in ["orders", "payments", "inventory"] {
            let text = try String(contentsOf: repositoryRoot.appendingPathComponent("pipelines/samples/\(topic).jsonl"), encoding: .utf8)
            for (offset, line) in text.split(separator: "\n").enumerated() {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let data = object["data"] as? [String: Any]
                let key = (topic == "inventory" ? data?["sku"] as? String : nil) ?? data?["orderId"] as? String
                all.append(Sample(topic: topic, offset: offset, key: key, value: String(line), timestamp: object["timestamp"] as? String ?? ""))
            }
        }
        return all.enumerated().sorted { ($0.element.timestamp, $0.offset) < ($1.element.timestamp, $1.offset) }.map(\.element)
    }

    static func render(_ plan: Plan, _ store: MemoryStore) -> String {
        var out = "{\n"
        // The declared views, and the pending timers of a pipeline with `schedule:`.
        let declared = Array(plan.pipeline.views.indices) + (plan.timersView.map { [$0] } ?? [])
        for (n, index) in declared.enumerated() {
            let view = plan.views[index]
            out += "  \"\(view.name)\": [\n"
            let rows = store.rows(plan, view.name)
            for (i, row) in rows.enumerated() {
                let cells = view.columns.map { column -> String in
                    let value: String
                    switch row[column.name]! {
                    case .null: value = "null"
                    case .integer(let v): value = String(v)
                    case .real(let v): value = "\(v)"
                    case .text(let s): value = Value.quoteJSON(s)
                    }
                    return "\"\(column.name)\": \(value)"
                }
                out += "    {" + cells.joined(separator: ", ") + "}" + (i == rows.count - 1 ? "\n" : ",\n")
            }
            out += "  ]" + (n == declared.count - 1 ? "\n" : ",\n")
        }
        return out + "}\n"
    }

    @Test(arguments: pipelineFiles)
    func samplesGiveTheExpectedRows(_ file: String) throws {
        let pipeline = try Pipeline.load(path: repositoryRoot.appendingPathComponent("pipelines/\(file)").path)
        let plan = Plan(pipeline)
        let messages = try Self.samples().compactMap { sample -> TestMessage? in
            guard let topic = pipeline.topics.firstIndex(of: sample.topic) else { return nil }
            return TestMessage(key: sample.key, value: sample.value, topic: topic, offset: Int64(sample.offset), timestamp: 1_762_000_000_000 + Int64(sample.offset))
        }
        // Once in one batch, once in batches of 3: the same final rows.
        var whole = MemoryStore(plan)
        let result = try run(plan, messages, store: &whole)
        #expect(result.errors.isEmpty, "\(result.errors)")
        var chunked = MemoryStore(plan)
        for start in stride(from: 0, to: messages.count, by: 3) {
            try run(plan, Array(messages[start..<min(start + 3, messages.count)]), store: &chunked)
        }
        #expect(chunked.tables == whole.tables)

        let actual = Self.render(plan, whole)
        let expectedURL = repositoryRoot.appendingPathComponent("pipelines/samples/\(pipeline.name).expected.json")
        if ProcessInfo.processInfo.environment["PROJECTOR_UPDATE_GOLDEN"] == "1" {
            try actual.write(to: expectedURL, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: expectedURL, encoding: .utf8)
        #expect(actual == expected)
        // The expected files are valid JSON.
        #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(expected.utf8)) }
    }
}
