public import ProjectorTools
internal import ProjectorTesting
internal import Foundation
internal import PostgresViews
internal import KafkaClient
internal import Projector
public import Views
internal import Pipelines
internal import ProjectorModel

/// An independent reference model for reliability tests: a ledger of `Posted` events (an account
/// and an integer amount), computed in the test from the records read back from the topic with
/// Foundation's JSON parser, never by Projector's `Plan`.
///
/// The ledger pipeline keeps, per account, the number of events and the sum of their amounts, and
/// per event an audit row counting how often it was applied. Accounts are Kafka keys, so each
/// account lives in one partition and the result does not depend on how partitions interleave:
/// the views must EQUAL the reference exactly. An event applied twice shows as `applied = 2`, a
/// lost one as a missing audit row.
///
/// ```swift
/// let events = ReferenceLedger.events(count: 10_000, topic: "ledger")
/// // ... run `projector run` with ReferenceLedger.pipeline(topic: "ledger") ...
/// let records = try ReferenceLedger.readTopic("ledger", brokers: fixture.bootstrapServers, partitions: 4)
/// #expect(try ReferenceLedger.differences(database: path, records: records).isEmpty)
/// ```
public enum ReferenceLedger {
    /// The name of the ledger pipeline.
    public static let pipelineName = "ledger"

    /// The ledger pipeline reading `topic`, with the error policy `onError` and extra top-level YAML.
    public static func pipeline(topic: String, onError: String = "fail", extra: String = "") -> String {
        """
        name: \(pipelineName)
        version: 1
        source: {topics: [\(topic)], type: $.eventType, key: $.data.account}
        on_error: \(onError)
        \(extra)
        views:
          ledger_balances: {key: [account], columns: {account: text, events: integer, total: integer}}
          ledger_audit: {key: [event_id], columns: {event_id: text, account: text, amount: integer, applied: integer}}
        on:
          Posted:
            - upsert: ledger_balances
              key: {account: $key}
              set: {events: events + 1, total: total + $.data.amount}
            - upsert: ledger_audit
              key: {event_id: $.eventId}
              set: {account: $key, amount: $.data.amount, applied: applied + 1}

        """
    }

    /// `count` `Posted` events over `accounts` accounts with random amounts; the Kafka key is the account.
    public static func events(count: Int, topic: String, accounts: Int = 97, from first: Int = 0) -> [DemoEvent] {
        var random = SystemRandomNumberGenerator()
        return (first ..< first + count).map { index in
            let account = "acct-\(Int.random(in: 0 ..< accounts, using: &random))"
            let amount = Int.random(in: -1_000_000 ... 1_000_000, using: &random)
            return DemoEvent(topic: topic, key: account, value: #"{"eventId":"e\#(index)","eventType":"Posted","data":{"account":"\#(account)","amount":\#(amount)}}"#)
        }
    }

    /// One record read back from the topic.
    public struct Record: Sendable, Hashable {
        /// The partition.
        public var partition: Int32
        /// The offset.
        public var offset: Int64
        /// The key bytes as text.
        public var key: String?
        /// The value bytes.
        public var value: [UInt8]?

        /// Creates a record.
        public init(partition: Int32, offset: Int64, key: String?, value: [UInt8]?) {
            self.partition = partition
            self.offset = offset
            self.key = key
            self.value = value
        }
    }

    /// What was read back: every record and each partition's high watermark.
    public struct Contents: Sendable {
        /// Records in partition and offset order.
        public var records: [Record]
        /// The high watermark of each partition.
        public var highWatermarks: [Int32: Int64]
    }

    /// Reads every record of `topic` with an assigned consumer (no group), up to the high watermarks.
    public static func readTopic(_ topic: String, brokers: String, partitions: Int, timeout: Duration = .seconds(60)) throws -> Contents {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: brokers, groupID: nil)
        configuration.isPartitionEOFEnabled = false
        configuration.additionalProperties = ["fetch.message.max.bytes": "10485760"]
        let consumer = try KafkaConsumer(configuration: configuration)
        defer { try? consumer.close() }
        var highs: [Int32: Int64] = [:]
        var starts: [KafkaTopicPartition: KafkaOffset] = [:]
        for partition in 0 ..< Int32(partitions) {
            let topicPartition = KafkaTopicPartition(topic: topic, partition: partition)
            highs[partition] = try consumer.watermarks(topicPartition, timeout: .seconds(10)).high
            starts[topicPartition] = .beginning
        }
        try consumer.assign(starts)
        var records: [Record] = []
        var next: [Int32: Int64] = [:]
        try waitUntil(deadline: timeout, pollInterval: .zero, "reading \(topic) to its high watermarks") {
            try consumer.poll(maxMessages: 10_000, timeout: .milliseconds(100)) { batch in
                for record in batch {
                    records.append(Record(partition: record.partition, offset: record.offset,
                                          key: record.key.map { String(decoding: $0, as: UTF8.self) },
                                          value: record.value.map { Array($0) }))
                    next[record.partition] = record.offset + 1
                }
            }
            return highs.allSatisfy { next[$0.key, default: 0] >= $0.value }
        }
        records.sort { ($0.partition, $0.offset) < ($1.partition, $1.offset) }
        return Contents(records: records, highWatermarks: highs)
    }

    /// The expected views of the ledger pipeline after `records`.
    public struct Expected: Sendable, Equatable {
        /// Per account: events and the sum of amounts.
        public var balances: [String: [Int64]] = [:]
        /// Per event id: account, amount, times applied (always 1).
        public var audit: [String: [String]] = [:]

        /// Folds `records` with Foundation's JSON parser; records that are not valid `Posted`
        /// events with an integer amount are left out (they are the errors' business).
        public init(records: [Record]) {
            for record in records {
                guard let value = record.value,
                      let object = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any],
                      object["eventType"] as? String == "Posted",
                      let id = object["eventId"] as? String,
                      let data = object["data"] as? [String: Any],
                      let account = data["account"] as? String,
                      let amount = data["amount"] as? Int64
                else { continue }
                var balance = balances[account] ?? [0, 0]
                balance[0] += 1
                balance[1] += amount
                balances[account] = balance
                let applied = (audit[id].flatMap { Int($0[2]) } ?? 0) + 1
                audit[id] = [account, String(amount), String(applied)]
            }
        }
    }

    /// A reader of the store `database` names: an SQLite path, or `postgres://…#schema` (a
    /// PostgreSQL URL with the schema as fragment).
    public static func reader(database: String) throws -> any ViewStoreReader {
        guard PostgresLocation.isPostgresURL(database) else {
            return try SQLiteViewStore(path: database, configuration: .init(isReadOnly: true))
        }
        let parts = database.split(separator: "#", maxSplits: 1).map(String.init)
        let location = try PostgresLocation(url: parts[0], schema: parts.count > 1 ? parts[1] : "public")
        return try PostgresViewStore(location: location, configuration: .init(isReadOnly: true, connectTimeout: .seconds(5)))
    }

    /// `--db` and `--db-schema` arguments for `database` (see ``reader(database:)``).
    public static func databaseArguments(_ database: String) -> [String] {
        let parts = database.split(separator: "#", maxSplits: 1).map(String.init)
        return ["--db", parts[0]] + (parts.count > 1 ? ["--db-schema", parts[1]] : [])
    }

    /// What the store at `path` holds for the ledger pipeline, in the reference's shape.
    public static func stored(database path: String) throws -> Expected {
        let store = try reader(database: path)
        var stored = Expected(records: [])
        for row in try store.rows(ofView: "ledger_balances").rows {
            guard case .text(let account) = row[0], case .integer(let events) = row[1], case .integer(let total) = row[2] else {
                stored.balances["<malformed row \(row)>"] = []
                continue
            }
            stored.balances[account] = [events, total]
        }
        for row in try store.rows(ofView: "ledger_audit").rows {
            guard case .text(let id) = row[0], case .text(let account) = row[1], case .integer(let amount) = row[2],
                  case .integer(let applied) = row[3] else {
                stored.audit["<malformed row \(row)>"] = []
                continue
            }
            stored.audit[id] = [account, String(amount), String(applied)]
        }
        return stored
    }

    /// The ledger pipeline's checkpoints in the store at `path`, by partition.
    public static func checkpoints(database path: String) -> [Int32: Int64] {
        guard let store = try? reader(database: path),
              let checkpoints = try? store.checkpoints(pipeline: pipelineName) else { return [:] }
        return Dictionary(checkpoints.map { ($0.partition, $0.nextOffset) }, uniquingKeysWith: max)
    }

    /// Events applied so far: the sum of the stored next offsets (0 when the store is unreadable).
    public static func appliedCount(database path: String) -> Int64 {
        checkpoints(database: path).values.reduce(0, +)
    }

    /// How the store differs from the reference of `contents` cut at the stored checkpoints (all of
    /// it when `atHighWatermarks`): lost events, doubled events, wrong balances, checkpoints short of
    /// the high watermarks. Empty when they are equal.
    public static func differences(database path: String, contents: Contents, atHighWatermarks: Bool = true) throws -> [String] {
        let checkpoints = checkpoints(database: path)
        var problems: [String] = []
        if atHighWatermarks {
            for (partition, high) in contents.highWatermarks where checkpoints[partition, default: 0] != high {
                problems.append("partition \(partition): checkpoint \(checkpoints[partition, default: 0]), high watermark \(high)")
            }
        }
        let applied = contents.records.filter { $0.offset < checkpoints[$0.partition, default: 0] }
        let expected = Expected(records: applied)
        let stored = try stored(database: path)
        let lost = Set(expected.audit.keys).subtracting(stored.audit.keys)
        let extra = Set(stored.audit.keys).subtracting(expected.audit.keys)
        let doubled = stored.audit.filter { $0.value.count == 3 && $0.value[2] != "1" }
        if !lost.isEmpty { problems.append("\(lost.count) events lost, e.g. \(lost.sorted().prefix(5))") }
        if !extra.isEmpty { problems.append("\(extra.count) events applied beyond the checkpoints, e.g. \(extra.sorted().prefix(5))") }
        if !doubled.isEmpty { problems.append("\(doubled.count) events applied more than once, e.g. \(doubled.keys.sorted().prefix(5))") }
        if stored.audit != expected.audit && lost.isEmpty && extra.isEmpty && doubled.isEmpty {
            problems.append("audit rows differ from the reference")
        }
        if stored.balances != expected.balances {
            let wrong = Set(expected.balances.keys).union(stored.balances.keys).filter { stored.balances[$0] != expected.balances[$0] }
            problems.append("\(wrong.count) balances differ, e.g. "
                + wrong.sorted().prefix(3).map { "\($0): \(stored.balances[$0] ?? []) vs \(expected.balances[$0] ?? [])" }.joined(separator: ", "))
        }
        return problems
    }
}
