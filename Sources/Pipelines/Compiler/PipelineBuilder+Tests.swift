import Foundation
import ProjectorModel
import Yams

/// `tests:`: given messages (inline or from JSON-lines files) and expected rows and dead letters.
extension PipelineBuilder {
    mutating func buildTests(_ node: Node, views: [ViewDefinition], topics: [String]) -> [PipelineTest] {
        guard case .sequence(let items) = node else {
            report(.invalidValue, "`tests` must be a list of tests (`- name: ...`)", at: node)
            return []
        }
        var tests: [PipelineTest] = []
        for item in items {
            guard let pairs = mapping(item, what: "a test", allowed: ["name", "given", "expect"]) else { continue }
            func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
            let name = value("name").flatMap { scalar($0, what: "the test name") } ?? "test at line \(item.position.line)"
            var test = PipelineTest(name: name, location: "\(file):\(item.position.line)", given: [], rows: [], deadLetters: nil)
            if let given = value("given") { test.given = buildGiven(given, topics: topics) } else {
                report(.missingKey, "test `\(name)` needs `given` (the messages)", at: item)
            }
            if let expect = value("expect") { buildExpect(expect, views: views, into: &test) } else {
                report(.missingKey, "test `\(name)` needs `expect` (rows per view and/or `dead_letters`)", at: item)
            }
            tests.append(test)
        }
        return tests
    }

    private mutating func buildGiven(_ node: Node, topics: [String]) -> [PipelineTest.Message] {
        guard case .sequence(let items) = node else {
            report(.invalidValue, "`given` must be a list of messages (`- value: {...}`, `- tombstone: true`, `- file: events.jsonl`)", at: node)
            return []
        }
        var messages: [PipelineTest.Message] = []
        let allowed = ["value", "key", "topic", "partition", "timestamp", "tombstone", "file", "key_path"]
        for item in items {
            guard let pairs = mapping(item, what: "a given message", allowed: allowed) else { continue }
            func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
            var message = PipelineTest.Message(topic: nil, key: nil, value: nil, partition: 0, timestamp: nil)
            if let node = value("topic"), let topic = scalar(node, what: "`topic`") {
                if !topics.contains(topic) {
                    report(.invalidValue, "topic `\(topic)` is not a source topic (\(topics.joined(separator: ", ")))", at: node)
                }
                message.topic = topic
            }
            if let node = value("key") { message.key = scalar(node, what: "`key`") }
            if let node = value("partition"), let text = scalar(node, what: "`partition`") {
                if let p = Int32(text), p >= 0 { message.partition = p } else { report(.invalidValue, "`partition` must be a number from 0, not `\(text)`", at: node) }
            }
            if let node = value("timestamp"), let text = scalar(node, what: "`timestamp`") {
                if let t = Int64(text) { message.timestamp = t } else { report(.invalidValue, "`timestamp` is the Kafka timestamp in ms, not `\(text)`", at: node) }
            }
            let isTombstone = value("tombstone").flatMap { scalar($0, what: "`tombstone`") } == "true"
            if let file = value("file") {
                if value("value") != nil || isTombstone {
                    report(.invalidValue, "a given `file` takes no `value` or `tombstone`", at: file)
                    continue
                }
                messages += readGivenFile(file, keyPath: value("key_path"), template: message)
                continue
            }
            if isTombstone {
                if value("value") != nil { report(.invalidValue, "a tombstone has no `value`", at: item); continue }
                if message.key == nil { report(.missingKey, "a tombstone needs `key`", at: item) }
            } else if let node = value("value") {
                if case .scalar(let s) = node { message.value = s.string } else { message.value = Self.jsonText(node) }
            } else {
                report(.missingKey, "a given message needs `value` (an event, or its raw text), `tombstone: true` or `file`", at: item)
                continue
            }
            messages.append(message)
        }
        return messages
    }

    /// The lines of a JSON-lines file beside the pipeline, one message each; with `key_path`, the key
    /// of each line is the string or number there.
    private mutating func readGivenFile(_ node: Node, keyPath: Node?, template: PipelineTest.Message) -> [PipelineTest.Message] {
        guard let name = scalar(node, what: "`file`") else { return [] }
        let directory = (file as NSString).deletingLastPathComponent
        let path = name.hasPrefix("/") ? name : (directory as NSString).appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: path) else {
            report(.unreadableFile, "cannot read the given file `\(path)`", at: node)
            return []
        }
        // `key_path` is one path or a list of alternatives: the first that holds a string or number.
        var alternatives: [[String]] = []
        if let keyPath {
            let nodes: [Node]
            if case .sequence(let list) = keyPath { nodes = Array(list) } else { nodes = [keyPath] }
            for node in nodes {
                guard let text = scalar(node, what: "`key_path`") else { return [] }
                guard text.hasPrefix("$."), !text.dropFirst(2).split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
                    report(.invalidPath, "`key_path` must look like $.a.b, not `\(text)`", at: node)
                    return []
                }
                alternatives.append(text.dropFirst(2).split(separator: ".").map(String.init))
            }
        }
        var messages: [PipelineTest.Message] = []
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
            if text.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            var message = template
            message.value = text
            if !alternatives.isEmpty {
                let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
                message.key = alternatives.lazy.compactMap { components -> String? in
                    var current: Any? = object
                    for component in components { current = (current as? [String: Any])?[component] }
                    switch current {
                    case let s as String: return s
                    case let n as NSNumber: return n.stringValue
                    default: return nil
                    }
                }.first
                if message.key == nil {
                    report(.invalidValue, "\(path):\(index + 1): no string or number at `key_path`", at: node)
                    continue
                }
            }
            messages.append(message)
        }
        return messages
    }

    private mutating func buildExpect(_ node: Node, views: [ViewDefinition], into test: inout PipelineTest) {
        guard let pairs = mapping(node, what: "`expect`", allowed: nil) else { return }
        for entry in pairs {
            if entry.key == "dead_letters" {
                guard case .sequence(let items) = entry.value else {
                    report(.invalidValue, "`dead_letters` must be a list (`[]` for none)", at: entry.value)
                    continue
                }
                var letters: [PipelineTest.DeadLetter] = []
                for item in items {
                    guard let spec = mapping(item, what: "an expected dead letter", allowed: ["message", "reason"]) else { continue }
                    var letter = PipelineTest.DeadLetter()
                    for field in spec {
                        guard let text = scalar(field.value, what: "`\(field.key)`") else { continue }
                        if field.key == "message" {
                            if let n = Int(text), n >= 1 { letter.message = n } else { report(.invalidValue, "`message` counts the given messages from 1, not `\(text)`", at: field.value) }
                        } else {
                            letter.reasonContains = text
                        }
                    }
                    letters.append(letter)
                }
                test.deadLetters = letters
                continue
            }
            // `emitted:` is the outbox: every record the given messages emitted (nothing is produced in a test).
            let emitted = entry.key == "emitted" && !emitTopics.isEmpty ? Outbox.definition(pipeline: pipelineName) : nil
            // `timers:` lists the pending timers (`_projector_timers_<pipeline>`) after the given messages.
            let timers = entry.key == "timers" && !scheduledEvents.isEmpty ? Timers.definition(pipeline: pipelineName) : nil
            guard let view = emitted ?? timers ?? views.first(where: { $0.name == entry.key }) else {
                let hint = didYouMean(entry.key, among: views.map(\.name) + ["dead_letters"]).map { "; did you mean `\($0)`?" } ?? ""
                report(.unknownView, "`expect` names `\(entry.key)`, which is not a view\(hint)", at: entry.keyNode)
                continue
            }
            guard case .sequence(let items) = entry.value else {
                report(.invalidValue, "the expected rows of `\(view.name)` must be a list (`[]` for none)", at: entry.value)
                continue
            }
            var rows: [[String: PipelineTest.Value]] = []
            for item in items {
                guard let columns = mapping(item, what: "an expected row of `\(view.name)`", allowed: view.columns.map(\.name)) else { continue }
                var row: [String: PipelineTest.Value] = [:]
                for column in columns { row[column.key] = Self.testValue(column.value) }
                let missing = view.keyColumns.map { view.columns[$0].name }.filter { row[$0] == nil }
                if !missing.isEmpty { report(.missingKeyColumn, "an expected row of `\(view.name)` needs its key: \(missing.joined(separator: ", "))", at: item); continue }
                rows.append(row)
            }
            test.rows.append((view.name, rows))
        }
    }

    /// A YAML node as a test value: plain scalars by their JSON look, quoted ones as strings,
    /// collections as JSON text.
    static func testValue(_ node: Node) -> PipelineTest.Value {
        guard case .scalar(let scalar) = node else { return .json(jsonText(node)) }
        let text = scalar.string
        guard scalar.style == .plain || scalar.style == .any else { return .string(text) }
        switch text {
        case "null", "~", "": return .null
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        default:
            if let i = Int64(text) { return .integer(i) }
            if let r = Double(text), text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { return .real(r) }
            return .string(text)
        }
    }

    /// A YAML node as compact JSON text (mapping keys in file order).
    static func jsonText(_ node: Node) -> String {
        switch node {
        case .mapping(let mapping):
            return "{" + mapping.map { Value.quoteJSON($0.key.string ?? "") + ":" + jsonText($0.value) }.joined(separator: ",") + "}"
        case .sequence(let sequence):
            return "[" + sequence.map(jsonText).joined(separator: ",") + "]"
        case .scalar, .alias:
            switch testValue(node) {
            case .null: return "null"
            case .boolean(let b): return b ? "true" : "false"
            case .integer(let i): return String(i)
            case .real(let r): return "\(r)"
            case .string(let s): return Value.quoteJSON(s)
            case .json(let j): return j
            }
        }
    }

}
