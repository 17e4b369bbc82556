/// A message a pipeline could not apply, kept raw with the reason (policy `dead-letter`).
public struct DeadLetter: Sendable, Hashable {
    /// The topic the message came from.
    public var topic: String
    /// Its partition.
    public var partition: Int32
    /// Its offset.
    public var offset: Int64
    /// The raw message key, or `nil` when it had none.
    public var key: [UInt8]?
    /// The raw message value, or `nil` for a tombstone.
    public var value: [UInt8]?
    /// Why the message was not applied.
    public var error: String
    /// When it was dead-lettered, ISO-8601 (metadata only).
    public var time: String
    /// The key it parks under `dead_letter.park_key` (the key the pipeline saw), or `nil`.
    public var parkKey: String?
    /// The original message's headers, in order.
    public var headers: [DeadLetterHeader]
    /// Whether it is produced to the pipeline's dead-letter topic, and whether that happened.
    public var publication: DeadLetterPublication

    /// Creates a dead letter; `time` is ISO-8601 text, and `nil` takes the wall clock.
    public init(
        topic: String, partition: Int32, offset: Int64,
        key: [UInt8]?, value: [UInt8]?, error: String, time: String? = nil,
        parkKey: String? = nil, headers: [DeadLetterHeader] = [], publication: DeadLetterPublication = .none
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.error = error
        self.time = time ?? wallClockTime()
        self.parkKey = parkKey
        self.headers = headers
        self.publication = publication
    }
}

/// Whether a dead letter goes to a dead-letter topic (`dead_letter.topic`), stored in
/// `_projector_dead_letters.published`: NULL, 0 or 1.
///
/// The table is the outbox: a letter is written `.pending` in its batch's transaction and marked
/// `.published` after the broker acknowledged it, so a crash in between produces it again.
public enum DeadLetterPublication: Sendable, Hashable {
    /// The pipeline has no dead-letter topic.
    case none
    /// Not yet acknowledged by the broker.
    case pending
    /// Produced and acknowledged.
    case published
}

/// A dead letter as stored: its row id and owning pipeline.
public struct StoredDeadLetter: Sendable, Hashable {
    /// The row id in `_projector_dead_letters`, for deleting it.
    public var id: Int64
    /// The pipeline that dead-lettered it.
    public var pipeline: String
    /// The message and reason.
    public var letter: DeadLetter

    /// Creates a stored dead letter.
    public init(id: Int64, pipeline: String, letter: DeadLetter) {
        self.id = id
        self.pipeline = pipeline
        self.letter = letter
    }
}
