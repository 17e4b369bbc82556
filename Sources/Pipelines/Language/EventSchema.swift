/// One entry of `events:`: the paths an event type must carry, with their JSON types, so that a
/// producer's missing or renamed field fails the event instead of reaching a view as null.
struct EventSchema: Sendable {
    /// The JSON type a required path must hold; `null` never satisfies a requirement.
    enum JSONType: String, Sendable, CaseIterable {
        case string, number, integer, boolean, object, array, any
    }

    /// A required path and its type.
    struct Field: Sendable {
        /// The path, read after `upcast` (the declared shape is the current version's).
        var path: JSONPath
        /// The JSON type it must hold.
        var type: JSONType
    }

    /// The event type.
    var type: String
    /// The required paths, in file order.
    var required: [Field]
}
