/// A byte range in a message buffer (valid only during `Plan.run`).
struct Span {
    var base: UnsafePointer<UInt8>
    var count: Int

    var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }
}
