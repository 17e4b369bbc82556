import Foundation
import KafkaClient
import ProjectorTesting
import Synchronization

/// A consumed record copied out of its batch.
struct ConsumedRecord: Sendable, Hashable {
    var topic: String
    var partition: Int32
    var offset: Int64
    var key: String?
    var value: String?
    var headers: [String: String?]
    var timestamp: KafkaTimestamp?

    init(_ record: KafkaRecord) {
        topic = record.topic
        partition = record.partition
        offset = record.offset
        key = record.key.map { String(decoding: $0, as: UTF8.self) }
        value = record.value.map { String(decoding: $0, as: UTF8.self) }
        var headers: [String: String?] = [:]
        for header in record.headers {
            headers.updateValue(header.value.map { String(decoding: $0, as: UTF8.self) }, forKey: header.name)
        }
        self.headers = headers
        timestamp = record.timestamp
    }

    var topicPartition: KafkaTopicPartition { KafkaTopicPartition(topic: topic, partition: partition) }
}

extension KafkaProducer {
    /// Sends `values` (key = value unless given) and waits for every delivery report.
    @discardableResult
    func sendAll(
        topic: String,
        values: [String],
        partition: Int32? = nil,
        key: (Int) -> String? = { _ in nil },
        timeout: Duration = .seconds(20)
    ) throws -> [KafkaDeliveryReport] {
        for (index, value) in values.enumerated() {
            let message = KafkaProducerMessage(topic: topic, partition: partition, key: key(index).map { Array($0.utf8) }, value: Array(value.utf8))
            var isQueued = false
            while !isQueued {
                let outcome: Result<Void, KafkaError> = Result { () throws(KafkaError) in try send(message, id: UInt(index)) }
                switch outcome {
                case .success: isQueued = true
                case .failure(let error) where error.code == .queueFull: _ = try pollDeliveryReports(timeout: .milliseconds(50))
                case .failure(let error): throw error
                }
            }
        }
        try flush(timeout: timeout)
        return try pollDeliveryReports().sorted { $0.id < $1.id }
    }
}

extension KafkaConsumer {
    /// Polls until `condition` holds for everything consumed so far; returns the records and events.
    func consume(
        deadline: Duration = .seconds(60),
        into records: inout [ConsumedRecord],
        events: inout [KafkaConsumerEvent],
        until condition: ([ConsumedRecord], [KafkaConsumerEvent]) -> Bool
    ) throws {
        var collected = records
        var seen = events
        try waitUntil(deadline: deadline, pollInterval: .zero, "records") {
            try poll(maxMessages: 1000, timeout: .milliseconds(100)) { batch in
                for record in batch { collected.append(ConsumedRecord(record)) }
                seen += batch.events
            }
            return condition(collected, seen)
        }
        records = collected
        events = seen
    }

    /// Polls until `count` records were consumed.
    func consume(count: Int, deadline: Duration = .seconds(60)) throws -> [ConsumedRecord] {
        var records: [ConsumedRecord] = []
        var events: [KafkaConsumerEvent] = []
        try consume(deadline: deadline, into: &records, events: &events) { records, _ in records.count >= count }
        return records
    }
}

/// Entries appended from several threads, in the order they happened.
final class EventLog: Sendable {
    private let entries = Mutex<[String]>([])
    func append(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

/// Polls a consumer on its own thread (as the runtime does) until stopped.
final class PollingThread: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let thrown = Mutex<(any Error)?>(nil)

    init(_ consumer: KafkaConsumer, name: String, onRecord: @escaping @Sendable (ConsumedRecord) -> Void) {
        let thread = Thread { [self] in
            // Thread names are unreliable on Linux (inherited from the creating thread); tag the Thread object.
            Thread.current.threadDictionary["polling-thread"] = name
            do {
                while !stopping.load(ordering: .relaxed) {
                    try consumer.poll(maxMessages: 500, timeout: .milliseconds(50)) { batch in
                        for record in batch { onRecord(ConsumedRecord(record)) }
                    }
                }
                try consumer.close()
            } catch {
                thrown.withLock { $0 = error }
            }
            finished.store(true, ordering: .releasing)
        }
        thread.start()
    }

    /// Stops polling, closes the consumer (its final revoke fires on the polling thread) and waits.
    func stop() throws {
        stopping.store(true, ordering: .relaxed)
        try waitUntil(deadline: .seconds(20), "polling thread to finish") { finished.load(ordering: .acquiring) }
        if let error = thrown.withLock({ $0 }) { throw error }
    }
}
