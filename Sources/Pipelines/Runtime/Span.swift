/// A byte range in a message buffer (valid only during `Plan.run`).
struct Span {
    var base: UnsafePointer<UInt8>
    var count: Int

    var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    /// The bytes as a `String`. Up to 15 bytes, they are copied straight into the string's inline
    /// storage, whose ASCII check is all the checking they get (~110 instructions, where
    /// `String(decoding:as:)` takes ~150-210 to check and copy them); a longer text is decoded
    /// (the one it allocates costs less that way). Either gives the same string.
    var text: String {
        guard count <= 15 else { return String(decoding: buffer, as: UTF8.self) }
        return String(unsafeUninitializedCapacity: count) { $0.initialize(fromContentsOf: buffer) }
    }
}
