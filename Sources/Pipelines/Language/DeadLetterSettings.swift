/// The pipeline's `dead_letter:` settings: how `on_error: dead-letter` keeps a key's order and
/// where it publishes dead letters besides the store.
///
/// ```yaml
/// on_error: dead-letter
/// dead_letter:
///   park_key: true       # later events of a key with a dead letter wait behind it
///   topic: orders.dlq    # each dead letter is also produced to this topic
/// ```
public struct DeadLetterSettings: Sendable, Hashable {
    /// Whether a dead letter parks its key: later events of that key are dead-lettered without
    /// running until the letter is replayed or skipped (`park_key`, default `false`).
    public var parksKey: Bool
    /// The Kafka topic each dead letter is produced to, with the original key, value and headers
    /// plus `projector.*` headers (`topic`, default none).
    public var topic: String?

    /// Creates settings.
    public init(parksKey: Bool = false, topic: String? = nil) {
        self.parksKey = parksKey
        self.topic = topic
    }

    /// Whether any setting differs from its default (only then is it part of the pipeline hash).
    public var isSet: Bool { parksKey || topic != nil }

    /// Whether `name` is a valid Kafka topic name: `[A-Za-z0-9._-]{1,249}`, not `.` or `..`.
    public static func isValidTopicName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...249).contains(bytes.count), name != ".", name != ".." else { return false }
        return bytes.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }
}
