/// A failure of the Projector runtime: what failed, what to do, and where when known.
public struct ProjectorError: Error, Sendable, CustomStringConvertible {
    /// A kind of runtime failure; a struct of static constants so kinds can be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's name.
        public var rawValue: String
        /// Creates a code from its name.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// The command line or a pipeline file is invalid (exit code 2).
        public static let usage = Code("usage")
        /// The broker failed or could not be reached (exit code 1).
        public static let broker = Code("broker")
        /// The view store failed (exit code 1).
        public static let database = Code("database")
        /// An event failed under `on_error: fail` (exit code 3).
        public static let eventFailed = Code("eventFailed")
        /// Another worker wrote the checkpoints this worker expected to own (exit code 1).
        public static let fenced = Code("fenced")
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed and what to do.
    public var message: String

    /// Creates an error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The process exit code for this failure: 2 usage, 3 event failure, 1 otherwise.
    public var exitCode: Int32 {
        switch code {
        case .usage: 2
        case .eventFailed: 3
        default: 1
        }
    }

    /// The message.
    public var description: String { message }
}
