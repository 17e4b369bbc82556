import ProjectorModel

/// How a path read after upcasting finds its value in the original event.
///
/// Only the recursive cases are boxed: a plain `.slot` is read without touching a reference count.
enum Access: Sendable {
    case slot(Int)
    case missing
    case constant(ConstantValue)
    /// The first one unless it is missing.
    indirect case firstPresent(Access, Access)
    /// The first one unless it is missing or null (an upcast default).
    indirect case nonNull(Access, Access)
}

/// What an expression can see while it runs: the message bytes and the slots the scan filled,
/// the routed handler's access table (which applies its upcasts), and the message metadata.
struct EvaluationContext {
    var bytes: UnsafeBufferPointer<UInt8>
    var slots: UnsafeMutableBufferPointer<Slot>
    var access: [Access]
    var key: Value
    var topic: String
    var partition: Int32
    var offset: Int64
    var timestamp: Int64?
    /// The rows the running operation's `lookup()`s found (`nil`: no such row), by lookup slot;
    /// nil for operations without lookups (an empty array would be retained and released with
    /// every context).
    var lookedUp: [[ViewValue]?]? = nil
}
