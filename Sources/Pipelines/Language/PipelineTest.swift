/// One test of a pipeline (`tests:` in the pipeline or in `NAME.test.yaml` beside it): messages
/// given in order, and the rows and dead letters expected afterwards. `projector test` runs it in
/// memory through the worker's batch path, so a pipeline is checked before it meets a broker.
public struct PipelineTest: Sendable {
    /// A value written in a test: a YAML scalar with its JSON meaning, or a mapping or list as JSON text.
    public enum Value: Sendable, Hashable, CustomStringConvertible {
        case null
        case boolean(Bool)
        case integer(Int64)
        case real(Double)
        case string(String)
        /// A YAML mapping or list, as compact JSON text.
        case json(String)

        /// The value as a test would write it.
        public var description: String {
            switch self {
            case .null: return "null"
            case .boolean(let b): return "\(b)"
            case .integer(let i): return "\(i)"
            case .real(let r): return "\(r)"
            case .string(let s): return "'\(s)'"
            case .json(let j): return j
            }
        }
    }

    /// A message given to the pipeline.
    public struct Message: Sendable {
        /// The source topic (nil: the pipeline's first topic).
        public var topic: String?
        /// The Kafka message key.
        public var key: String?
        /// The value bytes as text; nil for a tombstone.
        public var value: String?
        /// The partition.
        public var partition: Int32
        /// The Kafka timestamp in ms.
        public var timestamp: Int64?
    }

    /// An expected dead letter (or, under `skip` and `fail`, failed event): each field given must match.
    public struct DeadLetter: Sendable {
        /// Which given message failed, counted from 1 in the order given.
        public var message: Int?
        /// A part of the reason.
        public var reasonContains: String?
    }

    /// The test's name.
    public var name: String
    /// Where it is written, for messages (`file:line`).
    public var location: String
    /// The messages, in order.
    public var given: [Message]
    /// Per view, every row expected (columns not listed are not compared); views not listed are not checked.
    public var rows: [(view: String, rows: [[String: Value]])]
    /// The dead letters (failed events) expected, in order; nil: not checked.
    public var deadLetters: [DeadLetter]?
}
