/// A failure of one event, handled by the pipeline's `on_error` policy.
public struct EventError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A kind of event failure; a struct of static constants so kinds can be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's name, for example `typeMismatch`.
        public var rawValue: String
        /// Creates a code from its name.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// The value is not well-formed JSON (an empty value included).
        public static let malformedJSON = Code("malformedJSON")
        /// The JSON value is not an object.
        public static let notAnObject = Code("notAnObject")
        /// The event has no type (or its type is not a string).
        public static let missingType = Code("missingType")
        /// The event type has no handler and `on_unknown_type` is `error`.
        public static let unknownType = Code("unknownType")
        /// A key expression gave null.
        public static let nullKey = Code("nullKey")
        /// A value has the wrong type for an operator, function or column.
        public static let typeMismatch = Code("typeMismatch")
        /// Integer arithmetic overflowed, or a number is out of range.
        public static let overflow = Code("overflow")
        /// Division or remainder by zero.
        public static let divisionByZero = Code("divisionByZero")
        /// The event's version is not an integer.
        public static let invalidVersion = Code("invalidVersion")
        /// The `dedupe_by` expression gave null.
        public static let missingEventID = Code("missingEventID")
        /// The event's key is parked behind an earlier dead letter (`dead_letter.park_key`).
        public static let parked = Code("parked")
        /// The event lacks a path its type declares in `events:`, or the value there has another JSON type.
        public static let schema = Code("schema")
        /// An operation would leave null in a `not_null: true` column.
        public static let notNull = Code("notNull")
        /// A `schedule:` on an event without a timestamp: a timer's due time is relative to it.
        public static let missingTimestamp = Code("missingTimestamp")
    }

    /// Index of the message in the batch given to `Plan.run`.
    public var messageIndex: Int
    /// Index of the topic in the pipeline's source topics.
    public var topic: Int
    /// The partition.
    public var partition: Int32
    /// The offset.
    public var offset: Int64
    /// What kind of failure this is.
    public var code: Code
    /// The failing expression or path and the reason.
    public var message: String
    /// The event's key as text under `dead_letter.park_key`, when it was known before the failure;
    /// `nil` otherwise (then the letter parks no key).
    public var key: String?

    /// Creates an event error.
    public init(
        messageIndex: Int, topic: Int, partition: Int32, offset: Int64, code: Code, message: String, key: String? = nil
    ) {
        self.messageIndex = messageIndex
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.code = code
        self.message = message
        self.key = key
    }

    /// `topic#partition@offset: code: message`.
    public var description: String { "topic \(topic) partition \(partition) offset \(offset): \(code): \(message)" }
}
