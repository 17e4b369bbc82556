import ArgumentParser
import Foundation
import KafkaClient
import Projector

/// `projector produce`: writes JSON lines to a topic with an idempotent producer.
struct ProduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Produce JSON lines (one event per line) to a Kafka topic.",
        discussion: """
        Every non-blank line must be valid JSON (with --keyed: KEY<TAB>JSON, and KEY<TAB> alone sends a tombstone — a null value — for KEY, as kcat -K'\t' does). All lines are checked before anything is sent: a malformed line stops the command (exit 2) naming its line number. The producer is idempotent and flushes before exiting; the count and rate go to stderr, and stdout gets one line: the position token of what was produced (from the delivery reports), to send as Projector-Min-Position to the read API so the read sees these events. Exit 1 if a message could not be delivered (within 30 s by default; change with -X message.timeout.ms=...). librdkafka's own log is limited to critical messages; see more with -X log_level=6.

        The topic must exist: a missing one exits 1 and nothing is sent (producing never creates a topic implicitly). --create-topic creates it on purpose (--partitions, default 1; replication factor 3, or the number of brokers when fewer); an existing topic is used as it is, unless --partitions differs from its count (exit 2).

        Examples:
          projector produce --brokers 127.0.0.1:9092 --topic orders events.jsonl
          projector produce --brokers "$BROKERS" --topic orders --key-path '$.data.orderId' events.jsonl
          projector produce --brokers "$BROKERS" --topic inventory --key-path '$.data.sku' --key-path '$.data.orderId' events.jsonl
          printf 'SKU-1\t\n' | projector produce --brokers "$BROKERS" --topic inventory --keyed -
          projector produce --brokers "$BROKERS" --topic orders --create-topic --partitions 6 events.jsonl
          cat events.jsonl | projector produce --brokers "$BROKERS" --topic orders -X linger.ms=20 -
        """
    )

    @OptionGroup
    var kafka: KafkaOptions

    @Option(help: "The topic to write to.")
    var topic: String

    @Option(help: ArgumentHelp("Take each message key from this JSON path, e.g. $.data.orderId; repeat it for alternatives (the first path present wins).", valueName: "path"))
    var keyPath: [String] = []

    @Flag(help: "Lines are KEY<TAB>JSON (kcat -K'\\t'); an empty value after the tab is a tombstone.")
    var keyed = false

    @Flag(help: "Create the topic (with CreateTopics) when the cluster does not have it.")
    var createTopic = false

    @Option(help: "With --create-topic: the partitions of the topic (default 1).")
    var partitions: Int?

    @Argument(help: ArgumentHelp("A JSON-lines file, or - for stdin.", valueName: "file"))
    var file: String = "-"

    func run() throws {
        try reportingFailures {
            if partitions != nil && !createTopic {
                throw CommandFailure.usage("produce", "--partitions is only for --create-topic")
            }
            if let partitions, partitions < 1 {
                throw CommandFailure.usage("produce", "--partitions must be at least 1, got \(partitions)")
            }
            if keyed && !keyPath.isEmpty {
                throw CommandFailure.usage("produce", "--keyed lines carry their key: --key-path is not for them")
            }
            let paths = try keyPath.map(Self.parseKeyPath)
            let properties = try kafka.librdkafka.dictionary(command: "produce")
            let data = try readInput()
            let events = try Self.validate(data, keyPaths: paths, keyPathText: keyPath.joined(separator: " or "), keyed: keyed)
            try prepareTopic(properties: properties)

            var configuration = KafkaProducerConfiguration(bootstrapServers: kafka.brokers)
            configuration.isIdempotenceEnabled = true
            configuration.linger = .milliseconds(10)
            configuration.messageTimeout = .seconds(30)
            // librdkafka logs every failed connection attempt to stderr; keep stderr to our one-line
            // summary or error unless asked (-X log_level=6).
            configuration.additionalProperties = ["log_level": "2"].merging(properties) { $1 }
            let producer: KafkaProducer
            do {
                producer = try KafkaProducer(configuration: configuration)
            } catch {
                throw CommandFailure.usage("produce", describeFailure(error))
            }
            try send(events, from: data, with: producer)
        }
    }

    /// Fails (exit 1) on a topic the cluster does not have, unless --create-topic creates it; with
    /// --partitions, an existing topic must have that many (exit 2).
    private func prepareTopic(properties: [String: String]) throws {
        let administration = TopicAdministration(brokers: kafka.brokers, properties: properties)
        let found: Int?
        do {
            found = try administration.partitionCount(of: topic)
        } catch {
            throw CommandFailure.runtime("produce", "nothing was sent: \(error.message)")
        }
        if let found {
            if let partitions, partitions != found {
                throw CommandFailure.usage(
                    "produce", "topic \(topic) exists with \(found) partition(s), not the \(partitions) of --partitions; nothing was sent")
            }
            return
        }
        guard createTopic else {
            throw CommandFailure.runtime(
                "produce", "topic \(topic) does not exist at \(kafka.brokers); nothing was sent. "
                    + "To create it: \(commandLine(adding: ["--create-topic", "--partitions", "1"]))")
        }
        let count = partitions ?? 1
        do {
            let replicas = try administration.create(topic, partitions: count)
            printError("projector produce: created topic \(topic) with \(count) partition(s), replication factor \(replicas)")
        } catch {
            throw CommandFailure.runtime("produce", "nothing was sent: \(error.message)")
        }
    }

    private func readInput() throws -> [UInt8] {
        if file == "-" {
            return [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        }
        guard let contents = FileManager.default.contents(atPath: file) else {
            throw CommandFailure.usage("produce", "cannot read '\(file)'")
        }
        return [UInt8](contents)
    }

    private func send(_ events: [Event], from data: [UInt8], with producer: KafkaProducer) throws {
        let clock = ContinuousClock()
        let start = clock.now
        var failures: [KafkaDeliveryReport] = []
        try data.withUnsafeBytes { bytes in
            for (index, event) in events.enumerated() {
                let value = event.value.map { UnsafeRawBufferPointer(rebasing: bytes[$0]) }
                let key: UnsafeRawBufferPointer? = event.key.map { key in
                    key.withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count) }
                }
                while true {
                    do {
                        // The key buffer is copied by librdkafka before send returns (RD_KAFKA_MSG_F_COPY).
                        try withExtendedLifetime(event.key) {
                            try producer.send(topic: topic, key: key, value: value, id: UInt(event.line))
                        }
                        break
                    } catch let error as KafkaError where error.code == .queueFull {
                        failures += try producer.pollDeliveryReports(timeout: .milliseconds(100)).filter { !$0.isDelivered }
                    } catch let error as KafkaError {
                        throw CommandFailure.runtime("produce", "line \(events[index].line): \(describeFailure(error))")
                    }
                }
                if index % 1000 == 0 {
                    failures += try producer.pollDeliveryReports().filter { !$0.isDelivered }
                }
            }
        }
        do {
            try producer.flush(timeout: .seconds(60))
            failures += try producer.pollDeliveryReports().filter { !$0.isDelivered }
        } catch {
            throw CommandFailure.runtime("produce", "\(describeFailure(error)) (is the broker at \(kafka.brokers) up?)")
        }
        if let first = failures.min(by: { $0.id < $1.id }) {
            throw CommandFailure.runtime(
                "produce",
                "\(failures.count) of \(events.count) event(s) not delivered; first at line \(first.id): \(first.error?.message ?? "unknown error")"
                    + (first.error?.code == .messageTimedOut ? " (are the brokers at \(kafka.brokers) reachable?)" : "")
            )
        }
        let seconds = Double((clock.now - start).components.attoseconds) / 1e18 + Double((clock.now - start).components.seconds)
        let rate = seconds > 0 ? Double(events.count) / seconds : 0
        printError("projector produce: \(events.count) event(s) to \(topic) in \(String(format: "%.2f", seconds)) s (\(Int(rate)) events/s)")
        // The position just past what was produced, for Projector-Min-Position (read your writes).
        print(producer.deliveredPosition.token)
    }

    /// One validated line: its value's byte range in the input (nil: a tombstone) and its key.
    struct Event {
        var line: Int
        var value: Range<Int>?
        var key: [UInt8]?
    }

    /// Checks every non-blank line is JSON (and has the key, if asked) before anything is sent.
    static func validate(_ data: [UInt8], keyPaths: [[String]], keyPathText: String, keyed: Bool = false) throws -> [Event] {
        var events: [Event] = []
        var lineStart = 0
        var lineNumber = 0
        while lineStart < data.count {
            lineNumber += 1
            var lineEnd = data[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? data.count
            let next = lineEnd + 1
            if lineEnd > lineStart, data[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            defer { lineStart = next }
            var line = data[lineStart ..< lineEnd]
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            var key: [UInt8]?
            if keyed {
                guard let tab = line.firstIndex(of: 0x09) else {
                    throw CommandFailure.usage("produce", "line \(lineNumber): --keyed lines are KEY<TAB>JSON, and this one has no tab; nothing was sent")
                }
                key = Array(line[..<tab])
                line = data[(tab + 1) ..< lineEnd]
                if line.isEmpty {
                    events.append(Event(line: lineNumber, value: nil, key: key))
                    continue
                }
            }
            let object: Any
            do {
                object = try JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed])
            } catch {
                throw CommandFailure.usage("produce", "line \(lineNumber): malformed JSON (\(reason(error))); nothing was sent")
            }
            if !keyPaths.isEmpty {
                guard let text = keyPaths.lazy.compactMap({ lookUp($0, in: object).flatMap(scalarText) }).first else {
                    throw CommandFailure.usage("produce", "line \(lineNumber): no string or number at \(keyPathText); nothing was sent")
                }
                key = Array(text.utf8)
            }
            events.append(Event(line: lineNumber, value: line.startIndex ..< line.endIndex, key: key))
        }
        return events
    }

    /// Parses `$.a.b` into `["a", "b"]`.
    static func parseKeyPath(_ text: String) throws -> [String] {
        guard text.hasPrefix("$.") else {
            throw CommandFailure.usage("produce", "--key-path must look like $.field or $.a.b, got '\(text)'")
        }
        let components = text.dropFirst(2).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !components.contains(where: \.isEmpty) else {
            throw CommandFailure.usage("produce", "--key-path has an empty component: '\(text)'")
        }
        return components
    }

    private static func lookUp(_ path: [String], in object: Any) -> Any? {
        var current: Any? = object
        for component in path {
            current = (current as? [String: Any])?[component]
        }
        return current
    }

    private static func scalarText(_ value: Any) -> String? {
        switch value {
        case let string as String: return string
        case is Bool where type(of: value) == Bool.self: return nil
        case let number as NSNumber where String(cString: number.objCType) != "c": return number.stringValue
        default: return nil
        }
    }

    private static func reason(_ error: any Error) -> String {
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        return text.replacingOccurrences(of: "\n", with: " ")
    }
}
