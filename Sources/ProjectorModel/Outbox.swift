/// The internal table of records a pipeline emits (`emit:` operations): `_projector_outbox_<pipeline>`,
/// one row per emitted record not yet acknowledged by the broker.
///
/// The plan writes it like any view, so an emitted record commits in the batch's transaction with
/// the view rows and the checkpoints, and an event that fails leaves none of its records (the
/// change set's undo log). The worker's outbox relay produces the rows in primary-key order (per
/// source partition, in offset order) with an idempotent producer and deletes each row once the
/// broker acknowledged it. Each record carries the deterministic ``id(pipeline:topic:partition:offset:emit:)``
/// in its `projector.id` header, so consumers that dedupe on it see each record once.
public enum Outbox {
    /// The table's name for a pipeline.
    public static func tableName(pipeline: String) -> String { "_projector_outbox_\(pipeline)" }

    /// Column positions in ``definition(pipeline:)``.
    public enum Column {
        /// The source topic of the event that emitted the record (key).
        public static let sourceTopic = 0
        /// The source partition (key).
        public static let sourcePartition = 1
        /// The source offset (key).
        public static let sourceOffset = 2
        /// The emit's number in the pipeline, in file order (key).
        public static let emit = 3
        /// The `projector.id` header.
        public static let id = 4
        /// The topic the record goes to.
        public static let topic = 5
        /// The record key as text, or null.
        public static let key = 6
        /// The record value as JSON text, or null (a tombstone).
        public static let value = 7
        /// The user headers as a JSON object of strings, or null.
        public static let headers = 8
        /// The source event's timestamp in milliseconds, or null; the record's timestamp.
        public static let timestamp = 9
    }

    /// The table: keyed by the source position and the emit's number, so the primary-key order is
    /// the order records were emitted in, per source partition.
    public static func definition(pipeline: String) -> ViewDefinition {
        ViewDefinition(
            name: tableName(pipeline: pipeline),
            columns: [
                ColumnDefinition(name: "source_topic", type: .text, defaultValue: .null),
                ColumnDefinition(name: "source_partition", type: .integer, defaultValue: .integer(0)),
                ColumnDefinition(name: "source_offset", type: .integer, defaultValue: .integer(0)),
                ColumnDefinition(name: "emit", type: .integer, defaultValue: .integer(0)),
                ColumnDefinition(name: "id", type: .text, defaultValue: .null),
                ColumnDefinition(name: "topic", type: .text, defaultValue: .null),
                ColumnDefinition(name: "key", type: .text, defaultValue: .null),
                ColumnDefinition(name: "value", type: .json, defaultValue: .null),
                ColumnDefinition(name: "headers", type: .json, defaultValue: .null),
                ColumnDefinition(name: "timestamp", type: .integer, defaultValue: .null),
            ],
            keyColumns: [0, 1, 2, 3])
    }

    /// The `projector.id` of the record emitted by the `emit`-th `emit:` of `pipeline` for the
    /// event at `topic`/`partition`/`offset`: `<pipeline>/<topic>/<partition>/<offset>/<emit>`.
    /// The same event and definition always give the same id, live, after a crash or in a rebuild.
    public static func id(pipeline: String, topic: String, partition: Int32, offset: Int64, emit: Int) -> String {
        "\(pipeline)/\(topic)/\(partition)/\(offset)/\(emit)"
    }
}

/// One record of a pipeline's outbox as the relay produces it.
public struct OutboxRecord: Sendable, Hashable {
    /// The `projector.id` header: deterministic per source event and emit.
    public var id: String
    /// The topic it goes to.
    public var topic: String
    /// The record key, or nil.
    public var key: [UInt8]?
    /// The record value, or nil for a tombstone.
    public var value: [UInt8]?
    /// Headers in order (the user's, then `projector.*`).
    public var headers: [DeadLetterHeader]
    /// The timestamp in milliseconds since the epoch, or nil (the producer's clock).
    public var timestamp: Int64?
    /// Where the event that emitted it was read.
    public var sourceTopic: String
    /// Its partition.
    public var sourcePartition: Int32
    /// Its offset.
    public var sourceOffset: Int64

    /// Creates a record.
    public init(
        id: String, topic: String, key: [UInt8]?, value: [UInt8]?, headers: [DeadLetterHeader], timestamp: Int64?,
        sourceTopic: String, sourcePartition: Int32, sourceOffset: Int64
    ) {
        self.id = id
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
        self.sourceTopic = sourceTopic
        self.sourcePartition = sourcePartition
        self.sourceOffset = sourceOffset
    }
}
