public import Projector
internal import Foundation
internal import KafkaClient
internal import Pipelines
public import Views
internal import Synchronization
internal import ProjectorModel

/// `projector demo`: the embedded broker, the sample events plus a generated stream, every example
/// pipeline into one SQLite file, and a look at the views.
public struct Demo: Sendable {
    /// Where the demo reads and writes, and how much it generates.
    public struct Options: Sendable {
        /// The folder of pipeline files (`*.yaml`) and `samples/<topic>.jsonl`.
        public var pipelinesDirectory: String
        /// The SQLite file the views go to; replaced at the start. With ``openStore``, the store's
        /// name in messages.
        public var databasePath: String
        /// Opens a connection to another store than the SQLite file (`readOnly` for the look at
        /// the views), one per pipeline; the caller empties it first. `nil` for the SQLite file.
        public var openStore: (@Sendable (_ readOnly: Bool) throws -> any ViewStore)?
        /// How many generated events follow the samples.
        public var generatedEvents: Int
        /// Partitions per topic on the embedded broker.
        public var partitions: Int

        /// Creates options; the defaults are those of `projector demo`.
        public init(pipelinesDirectory: String = "pipelines", databasePath: String = "demo.sqlite",
                    generatedEvents: Int = 100_000, partitions: Int = 6) {
            self.pipelinesDirectory = pipelinesDirectory
            self.databasePath = databasePath
            self.generatedEvents = generatedEvents
            self.partitions = partitions
            openStore = nil
        }
    }

    /// The options.
    public let options: Options

    /// Creates the demo.
    public init(options: Options) { self.options = options }

    /// Runs the demo, writing its report with `print`.
    /// - Throws: ``ProjectorError`` for invalid pipelines (`.usage`), broker or database failures.
    public func run(print: (String) -> Void) throws(ProjectorError) {
        let plans = try loadPlans()
        let topics = Set(plans.flatMap(\.topics)).sorted()
        print("Starting the embedded broker (librdkafka mock cluster, 3 brokers) with topics \(topics.joined(separator: ", ")) × \(options.partitions) partitions")
        let cluster: MockCluster
        var delivered: [String: Int]
        do {
            cluster = try MockCluster(brokerCount: 3)
            for topic in topics { try cluster.createTopic(topic, partitions: options.partitions) }
            // The topics `emit:` operations produce to (the saga reactor's commands).
            for topic in Set(plans.flatMap(\.emitTopics)).sorted() { try cluster.createTopic(topic, partitions: 1) }
            let samples = try sampleEvents(topics: topics)
            let publisher = try EventPublisher(brokers: cluster.bootstrapServers)
            delivered = try publisher.publish(Self.abandonedOrders.filter { topics.contains($0.topic) })
            print("Produced \(Self.abandonedOrders.count) orders created 20 minutes ago and never paid (their payment timeouts come due)")
            delivered.merge(try publisher.publish(samples), uniquingKeysWith: +)
            print("Produced \(samples.count) sample events from \(options.pipelinesDirectory)/samples")
            let started = ContinuousClock.now
            let generated = try publisher.publish(DemoStream(count: options.generatedEvents).lazy.filter { topics.contains($0.topic) })
            delivered.merge(generated, uniquingKeysWith: +)
            let seconds = (ContinuousClock.now - started).seconds
            print("Produced \(options.generatedEvents) generated events in \(String(format: "%.1f", seconds)) s")
        } catch {
            throw ProjectorError(code: .broker, message: "demo: \(error)")
        }
        if options.openStore == nil {
            try? FileManager.default.removeItem(atPath: options.databasePath)
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: options.databasePath + suffix) }
        }
        try project(plans, brokers: cluster.bootstrapServers, delivered: delivered, print: print)
        try show(plans, print: print)
        try showEmitted(plans, brokers: cluster.bootstrapServers, print: print)
        try showSagas(plans, print: print)
        withExtendedLifetime(cluster) {}
    }

    private func loadPlans() throws(ProjectorError) -> [Plan] {
        let directory = options.pipelinesDirectory
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw ProjectorError(code: .usage, message: "demo: cannot read the pipelines folder \(directory); run from the repository root or pass --pipelines DIR")
        }
        var plans: [Plan] = []
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            do {
                plans.append(Plan(try Pipeline.load(path: directory + "/" + name)))
            } catch {
                throw ProjectorError(code: .usage, message: "\(error)")
            }
        }
        guard !plans.isEmpty else {
            throw ProjectorError(code: .usage, message: "demo: no pipeline files (*.yaml) in \(directory)")
        }
        return plans
    }

    /// The sample events of `samples/<topic>.jsonl`, keyed by aggregate id.
    private func sampleEvents(topics: [String]) throws(ProjectorError) -> [DemoEvent] {
        var events: [DemoEvent] = []
        for topic in topics {
            let path = "\(options.pipelinesDirectory)/samples/\(topic).jsonl"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where !line.allSatisfy(\.isWhitespace) {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let data = object["data"] as? [String: Any] else {
                    throw ProjectorError(code: .usage, message: "\(path):\(number + 1): not a JSON event envelope")
                }
                let preferred = topic == "inventory" ? ["sku", "orderId"] : ["orderId", "sku", "customerId"]
                let key = preferred.lazy.compactMap { data[$0] as? String }.first ?? (object["eventId"] as? String ?? "")
                events.append(DemoEvent(topic: topic, key: key, value: String(line)))
            }
        }
        return events
    }

    private func project(_ plans: [Plan], brokers: String, delivered: [String: Int], print: (String) -> Void) throws(ProjectorError) {
        let progress = ProgressLine()
        let totals = DemoTotals(plans.map { plan in plan.topics.reduce(0) { $0 + (delivered[$1] ?? 0) } })
        var workers: [Worker] = []
        for (index, plan) in plans.enumerated() {
            let store: any ViewStore
            do {
                store = try openStore(readOnly: false)
            } catch {
                throw ProjectorError(code: .database, message: "demo: \(error)")
            }
            workers.append(Worker(
                projection: plan, store: store,
                configuration: WorkerConfiguration(brokers: brokers, exitsAtEnd: true),
                onBatch: { update in
                    totals.record(update.messages, for: index)
                    progress.update(totals.summary)
                }))
        }
        print("Running \(plans.count) pipelines (\(plans.map(\.name).joined(separator: ", "))) into \(options.databasePath)")
        let started = ContinuousClock.now
        let results = WorkerGroup.run(workers, until: ShutdownSignal())
        progress.finish()
        let seconds = (ContinuousClock.now - started).seconds
        for result in results {
            if case .failure(let error) = result { throw error }
        }
        let events = results.reduce(0) { total, result in total + ((try? result.get().messages) ?? 0) }
        print("Projected \(events) events in \(String(format: "%.1f", seconds)) s (\(Int(Double(events) / max(seconds, 0.001))) events/s over all pipelines, group joins included)")
    }

    func openStore(readOnly: Bool) throws -> any ViewStore {
        if let open = options.openStore { return try open(readOnly) }
        return try SQLiteViewStore(path: options.databasePath, configuration: .init(isReadOnly: readOnly, busyTimeout: .seconds(60)))
    }

    private func show(_ plans: [Plan], print: (String) -> Void) throws(ProjectorError) {
        do {
            let store = try openStore(readOnly: true)
            for plan in plans {
                for view in plan.pipeline.views {
                    let rows = try store.rows(ofView: view.name, limit: 5)
                    print("\n\(plan.name) → \(view.name) (first \(rows.rows.count) rows by key)")
                    print(TextTable(columns: rows.columns, rows: rows.rows.map { $0.map(\.displayText) }).rendered)
                }
            }
        } catch {
            throw ProjectorError(code: .database, message: "demo: \(error)")
        }
    }
}

extension Demo {
    /// How many records each emitting pipeline produced to each of its emit topics.
    fileprivate func showEmitted(_ plans: [Plan], brokers: String, print: (String) -> Void) throws(ProjectorError) {
        let emitting = plans.filter { !$0.emitTopics.isEmpty }
        guard !emitting.isEmpty else { return }
        do {
            let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: brokers))
            defer { try? consumer.close() }
            for plan in emitting {
                let counts = try plan.emitTopics.map { topic in
                    "\(topic) \(try consumer.watermarks(KafkaTopicPartition(topic: topic, partition: 0), timeout: .seconds(10)).high)"
                }
                print("\n\(plan.name) emitted through its outbox: \(counts.joined(separator: ", ")) records")
            }
        } catch {
            throw ProjectorError(code: .broker, message: "demo: \(error)")
        }
    }
}

/// Messages applied per pipeline, shared by the worker threads for the progress line.
private final class DemoTotals: Sendable {
    private let expected: [Int]
    private let applied: Mutex<[Int]>

    init(_ expected: [Int]) {
        self.expected = expected
        applied = Mutex(Array(repeating: 0, count: expected.count))
    }

    func record(_ messages: Int, for pipeline: Int) { applied.withLock { $0[pipeline] = messages } }

    var summary: String {
        let done = applied.withLock { $0.reduce(0, +) }
        let total = max(expected.reduce(0, +), 1)
        return "projecting: \(done)/\(total) events (\(done * 100 / total)%)"
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
