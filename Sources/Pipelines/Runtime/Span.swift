/// A byte range in a message buffer (valid only during `Plan.run`).
struct Span {
    var base: UnsafePointer<UInt8>
    var count: Int

    var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    /// The bytes as a `String`, the same as `String(decoding:as:)` gives. Up to 15 bytes, they are
    /// copied straight into the string's inline storage and, when all ASCII, checked no further
    /// (~110 instructions, where `String(decoding:as:)` takes ~150-210); other short text is
    /// checked as `String(decoding:as:)` checks it. A longer text is decoded: where the string
    /// allocates, that costs less.
    var text: String {
        guard count <= 15 else { return String(decoding: buffer, as: UTF8.self) }
        return String(unsafeUninitializedCapacity: count) { $0.initialize(fromContentsOf: buffer) }
    }
}
