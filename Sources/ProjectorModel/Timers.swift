/// The internal tables of a pipeline's durable timers (`schedule:` operations).
///
/// A timer is two rows written through the batch's change set like any view row, so scheduling,
/// replacing, cancelling and firing commit with the views and the checkpoint, and a rebuild
/// reproduces them: `_projector_timers_<pipeline>`, one row per pending timer keyed by
/// (event, key) so that scheduling the same pair again replaces it, and
/// `_projector_timer_queue_<pipeline>`, the same timers keyed by (source topic, partition, due,
/// event, key), so that the due timers of a partition are one primary-key range read per batch
/// (``RowReader/rows(in:keyPrefix:upTo:)``) without a secondary index.
public enum Timers {
    /// The table of pending timers by (event, key).
    public static func tableName(pipeline: String) -> String { "_projector_timers_\(pipeline)" }
    /// The same timers ordered by partition and due time.
    public static func queueName(pipeline: String) -> String { "_projector_timer_queue_\(pipeline)" }

    /// Column positions in ``definition(pipeline:)``.
    public enum Column {
        /// The event type the timer delivers (key).
        public static let event = 0
        /// The message key the fired event carries (key).
        public static let key = 1
        /// When it fires: milliseconds since the epoch, in the stream time of its source partition.
        public static let due = 2
        /// The source topic of the event that scheduled it.
        public static let sourceTopic = 3
        /// Its source partition.
        public static let sourcePartition = 4
        /// The JSON object merged into the fired event's value, or null.
        public static let data = 5
    }

    /// Column positions in ``queueDefinition(pipeline:)``.
    public enum QueueColumn {
        /// The source topic (key).
        public static let sourceTopic = 0
        /// The source partition (key).
        public static let sourcePartition = 1
        /// The due time (key).
        public static let due = 2
        /// The event type (key).
        public static let event = 3
        /// The message key (key).
        public static let key = 4
        /// The data, as in the timers table.
        public static let data = 5
    }

    /// `_projector_timers_<pipeline>`, keyed by (event, key).
    public static func definition(pipeline: String) -> ViewDefinition {
        ViewDefinition(
            name: tableName(pipeline: pipeline),
            columns: [
                ColumnDefinition(name: "event", type: .text, defaultValue: .null),
                ColumnDefinition(name: "key", type: .text, defaultValue: .null),
                ColumnDefinition(name: "due", type: .integer, defaultValue: .integer(0)),
                ColumnDefinition(name: "source_topic", type: .text, defaultValue: .null),
                ColumnDefinition(name: "source_partition", type: .integer, defaultValue: .integer(0)),
                ColumnDefinition(name: "data", type: .json, defaultValue: .null),
            ],
            keyColumns: [0, 1])
    }

    /// `_projector_timer_queue_<pipeline>`, keyed by (source topic, partition, due, event, key).
    public static func queueDefinition(pipeline: String) -> ViewDefinition {
        ViewDefinition(
            name: queueName(pipeline: pipeline),
            columns: [
                ColumnDefinition(name: "source_topic", type: .text, defaultValue: .null),
                ColumnDefinition(name: "source_partition", type: .integer, defaultValue: .integer(0)),
                ColumnDefinition(name: "due", type: .integer, defaultValue: .integer(0)),
                ColumnDefinition(name: "event", type: .text, defaultValue: .null),
                ColumnDefinition(name: "key", type: .text, defaultValue: .null),
                ColumnDefinition(name: "data", type: .json, defaultValue: .null),
            ],
            keyColumns: [0, 1, 2, 3, 4])
    }

    /// The timers row of a queue row: the same timer, keyed by (event, key).
    public static func row(fromQueue queue: [ViewValue]) -> [ViewValue] {
        [queue[QueueColumn.event], queue[QueueColumn.key], queue[QueueColumn.due],
         queue[QueueColumn.sourceTopic], queue[QueueColumn.sourcePartition], queue[QueueColumn.data]]
    }

    /// The queue row of a timers row.
    public static func queueRow(from timer: [ViewValue]) -> [ViewValue] {
        [timer[Column.sourceTopic], timer[Column.sourcePartition], timer[Column.due],
         timer[Column.event], timer[Column.key], timer[Column.data]]
    }

    /// The id of one firing of the timer (`event`, `key`) due at `due` on `topic`/`partition`:
    /// `<pipeline>/timer/<topic>/<partition>/<due>/<event>/<key>`; the records its handler emits
    /// carry it with `/<emit number>` appended as `projector.id`. Deterministic: a timer fires at
    /// one point of its partition's log, live or in a rebuild.
    public static func firingID(pipeline: String, topic: String, partition: Int32, due: Int64, event: String, key: String) -> String {
        "\(pipeline)/timer/\(topic)/\(partition)/\(due)/\(event)/\(key)"
    }

    /// The outbox `emit` column of a fired timer's record. Its records are keyed by the source
    /// position of the event the timer fired before, with `emit` values below every `emit:`
    /// number (those are ≥ 0), in firing order: the relay produces them before that event's own.
    /// `firing` counts the timers fired before that event (from 0), `emit` is the `emit:` number.
    public static func outboxEmit(firing: Int, emit: Int) -> Int64 {
        firstOutboxEmit + Int64(firing) * emitsPerFiring + Int64(emit)
    }

    /// The `emit` column of the first fired timer's first record.
    public static let firstOutboxEmit: Int64 = -1_000_000_000_000
    /// Room for `emit:` numbers per fired timer in the outbox `emit` column.
    public static let emitsPerFiring: Int64 = 1_000_000
}
