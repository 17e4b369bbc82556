import ProjectorModel

/// The failure of one event while it is evaluated, before it gets its message coordinates.
struct EventFailure: Error {
    var code: EventError.Code
    var message: String
}
