internal import KafkaClient
internal import Views

/// A failure of the Projector runtime: what failed, what to do, where, and the error underneath.
///
/// The runtime wraps every lower error once, with ``init(wrapping:pipeline:doing:)``, at the
/// boundary where it knows the pipeline and the action; the cause stays in ``underlying`` for
/// callers that branch on it (a `KafkaError`, a `ViewStoreError`). Which exit code a failure gets
/// is the CLI's decision, not the library's.
public struct ProjectorError: Error, Sendable, CustomStringConvertible {
    /// A kind of runtime failure; a struct of static constants so kinds can be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's name.
        public var rawValue: String
        /// Creates a code from its name.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// The command line, a pipeline file or the stored state does not allow the request.
        public static let usage = Code("usage")
        /// The broker failed or could not be reached.
        public static let broker = Code("broker")
        /// The view store failed.
        public static let database = Code("database")
        /// An event failed under `on_error: fail`; everything before it is committed.
        public static let eventFailed = Code("eventFailed")
        /// Another worker wrote the checkpoints this worker expected to own.
        public static let fenced = Code("fenced")
        /// The store's views were built by another definition of the pipeline than the one given:
        /// the request cannot run as given (rebuild them, or give the definition that built them).
        public static let definitionChanged = Code("definitionChanged")
        /// A rebuild swapped in views of another definition while this worker ran: its definition
        /// is outdated, and the next step is to start the one that rebuilt them.
        public static let superseded = Code("superseded")
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed and what to do.
    public var message: String
    /// The pipeline it concerns, when one does.
    public var pipeline: String?
    /// The lower-level error this one wraps (`KafkaError`, `ViewStoreError`, ...), when there is one.
    public var underlying: (any Error)?

    /// Creates an error.
    public init(code: Code, message: String, pipeline: String? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.pipeline = pipeline
        self.underlying = underlying
    }

    /// Wraps a lower error once: a ``ProjectorError`` passes through unchanged, a `KafkaError` becomes
    /// `.broker`, the store's `definitionChanged` `.definitionChanged`, anything else `.database`; the message says
    /// `<doing>: <the error>` and the cause is kept in ``underlying``.
    /// - Parameters:
    ///   - error: the error caught.
    ///   - pipeline: the pipeline concerned, when one is.
    ///   - doing: the action that failed, such as `"pipeline orders"` or `"rebuild orders: reading checkpoints"`.
    public init(wrapping error: any Error, pipeline: String? = nil, doing: String) {
        if let error = error as? ProjectorError {
            self = error
            return
        }
        let code: Code
        if error is KafkaError {
            code = .broker
        } else if let error = error as? ViewStoreError, error.code == .definitionChanged {
            code = .definitionChanged
        } else {
            code = .database
        }
        self.init(code: code, message: "\(doing): \(error)", pipeline: pipeline, underlying: error)
    }

    /// The message.
    public var description: String { message }
}

/// Runs `body`, wrapping whatever it throws with ``ProjectorError/init(wrapping:pipeline:doing:)``.
func wrappingErrors<T>(pipeline: String? = nil, doing: @autoclosure () -> String, _ body: () throws -> T) throws(ProjectorError) -> T {
    do {
        return try body()
    } catch {
        throw ProjectorError(wrapping: error, pipeline: pipeline, doing: doing())
    }
}
