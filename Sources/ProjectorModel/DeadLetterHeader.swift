/// One header of a dead-lettered message, kept to produce the letter to a dead-letter topic
/// with the original headers.
public struct DeadLetterHeader: Sendable, Hashable {
    /// The header name.
    public var name: String
    /// The header value, or `nil` for a null value.
    public var value: [UInt8]?

    /// Creates a header.
    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }
}
