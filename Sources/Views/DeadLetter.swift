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

    /// Creates a dead letter.
    /// - Parameter time: ISO-8601 text; `nil` takes the wall clock.
    public init(
        topic: String, partition: Int32, offset: Int64,
        key: [UInt8]?, value: [UInt8]?, error: String, time: String? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.error = error
        self.time = time ?? wallClockTime()
    }
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
