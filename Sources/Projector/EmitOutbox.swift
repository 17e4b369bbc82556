internal import Foundation
internal import KafkaClient
internal import Views
internal import ProjectorModel

/// A pipeline's emitted records (`emit:`, the table `_projector_outbox_<pipeline>`) as an outbox
/// for ``OutboxRelay``.
///
/// Rows are read in primary-key order — per source partition, in offset order, then in the order
/// of the emits — and each row is deleted in the live generation once the broker acknowledged it,
/// so the table holds exactly the records not yet produced. Every record carries the headers the
/// template gave, then `projector.id` (deterministic: pipeline, source topic, partition, offset and
/// emit number), `projector.pipeline`, `projector.topic`, `projector.partition`, `projector.offset`.
final class EmitOutbox: OutboxSource {
    let pipeline: String
    let store: any ViewStore
    /// The outbox's index among the projection's views (`ViewChange.view`).
    let view: Int
    let table: String

    init(pipeline: String, store: any ViewStore, view: Int) {
        self.pipeline = pipeline
        self.store = store
        self.view = view
        self.table = Outbox.tableName(pipeline: pipeline)
    }

    var destination: String { "the emit topics" }
    var clientSuffix: String { "outbox" }

    func pending(limit: Int, inFlight: Set<String>) throws -> [OutboxItem] {
        // In-flight rows are still in the table: read past them.
        let rows = try store.rows(ofView: table, limit: limit + inFlight.count).rows
        var items: [OutboxItem] = []
        for row in rows {
            guard let record = Self.record(row), case .integer(let emit) = row[Outbox.Column.emit] else { continue }
            // The row's key, not the id: a fired timer's id does not spell its row's key.
            let key = "\(record.sourceTopic)/\(record.sourcePartition)/\(record.sourceOffset)/\(emit)"
            if inFlight.contains(key) { continue }
            items.append(OutboxItem(
                key: key, message: message(for: record), label: "record \(record.id)",
                partition: KafkaTopicPartition(topic: record.sourceTopic, partition: record.sourcePartition)))
            if items.count == limit { break }
        }
        return items
    }

    func sent(_ item: OutboxItem) {}

    func failed(_ item: OutboxItem) {}

    /// Every read starts from the outbox's first row: nothing to rewind.
    func rewind() {}

    func delivered(_ items: [OutboxItem]) throws {
        // Kafka topic names hold no `/`: the item key's four parts are the row's key.
        let changes = items.compactMap { item -> ViewChange? in
            let parts = item.key.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 4, let partition = Int64(parts[1]), let offset = Int64(parts[2]), let emit = Int64(parts[3]) else { return nil }
            return ViewChange(view: view, key: [.text(String(parts[0])), .integer(partition), .integer(offset), .integer(emit)], row: nil)
        }
        try store.write(pipeline: pipeline, target: .live) { transaction in try transaction.apply(changes) }
    }

    /// The record as a message: the template's key, value and headers, then the `projector.*` headers.
    func message(for record: OutboxRecord) -> KafkaProducerMessage {
        var headers = record.headers.map { KafkaHeader(name: $0.name, value: $0.value) }
        headers += [
            KafkaHeader(name: "projector.id", string: record.id),
            KafkaHeader(name: "projector.pipeline", string: pipeline),
            KafkaHeader(name: "projector.topic", string: record.sourceTopic),
            KafkaHeader(name: "projector.partition", string: String(record.sourcePartition)),
            KafkaHeader(name: "projector.offset", string: String(record.sourceOffset)),
        ]
        return KafkaProducerMessage(
            topic: record.topic, key: record.key, value: record.value, headers: headers, timestampMilliseconds: record.timestamp)
    }

    /// A row of the outbox table as a record; nil for a row that is not one (never written by a plan).
    static func record(_ row: [ViewValue]) -> OutboxRecord? {
        guard row.count > Outbox.Column.timestamp, let id = text(row[Outbox.Column.id]), let topic = text(row[Outbox.Column.topic]),
              let sourceTopic = text(row[Outbox.Column.sourceTopic]),
              case .integer(let partition) = row[Outbox.Column.sourcePartition],
              case .integer(let offset) = row[Outbox.Column.sourceOffset]
        else { return nil }
        var headers: [DeadLetterHeader] = []
        if let json = text(row[Outbox.Column.headers]),
           let object = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: []) as? [String: String] {
            // JSON objects are unordered once parsed: name order keeps the headers deterministic.
            headers = object.keys.sorted().map { DeadLetterHeader(name: $0, value: Array(object[$0]!.utf8)) }
        }
        var timestamp: Int64?
        if case .integer(let value) = row[Outbox.Column.timestamp] { timestamp = value }
        return OutboxRecord(
            id: id, topic: topic, key: text(row[Outbox.Column.key]).map { Array($0.utf8) },
            value: text(row[Outbox.Column.value]).map { Array($0.utf8) }, headers: headers, timestamp: timestamp,
            sourceTopic: sourceTopic, sourcePartition: Int32(clamping: partition), sourceOffset: offset)
    }

    private static func text(_ value: ViewValue) -> String? {
        if case .text(let s) = value { return s }
        return nil
    }
}
