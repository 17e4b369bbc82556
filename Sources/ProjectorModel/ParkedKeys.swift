/// The internal table of keys parked behind a dead letter (`dead_letter: {park_key: true}`):
/// `_projector_parked_<pipeline>`, one row per parked key with the position of the dead letter
/// it waits behind.
///
/// The plan reads and writes it like any view, so parking commits in the batch's transaction
/// and a rebuild's shadow has its own copy. `dlq replay` and `dlq skip` unpark keys through it.
public enum ParkedKeys {
    /// The table's name for a pipeline.
    public static func tableName(pipeline: String) -> String { "_projector_parked_\(pipeline)" }

    /// The table: `key` (text, the key), `topic`, `partition`, `offset` of the dead letter it waits behind.
    public static func definition(pipeline: String) -> ViewDefinition {
        ViewDefinition(
            name: tableName(pipeline: pipeline),
            columns: [
                ColumnDefinition(name: "key", type: .text, defaultValue: .null),
                ColumnDefinition(name: "topic", type: .text, defaultValue: .null),
                ColumnDefinition(name: "partition", type: .integer, defaultValue: .integer(0)),
                ColumnDefinition(name: "offset", type: .integer, defaultValue: .integer(0)),
            ],
            keyColumns: [0])
    }

    /// The row parking `key` behind the dead letter at `topic`/`partition`/`offset`.
    public static func row(key: String, topic: String, partition: Int32, offset: Int64) -> [ViewValue] {
        [.text(key), .text(topic), .integer(Int64(partition)), .integer(offset)]
    }

    /// The reason given to an event dead-lettered because its key is parked behind `row`.
    package static func reason(key: String, row: [ViewValue]) -> String {
        func text(_ value: ViewValue) -> String {
            switch value {
            case .text(let s): return s
            case .integer(let v): return String(v)
            default: return "?"
            }
        }
        return "key \(key) is parked behind the dead letter at \(text(row[1]))/\(text(row[2]))/\(text(row[3])); "
            + "replay or skip that letter (projector dlq) to release the key"
    }
}
