// The few Pipelines types the scanner's files name, so they compile alone (see `run`).
enum PathComponent: Hashable, Sendable {
    case member(String)
    case index(Int)
    case wildcard
}

struct JSONPath: Hashable, Sendable {
    var components: [PathComponent]
}

struct EventFailure: Error {
    var message: String
}
