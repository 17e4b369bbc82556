/// An error of the view store: what failed, what to do, and the SQLite result code when SQLite
/// reported it.
///
/// Match on ``code``; the message is for people.
///
/// ```swift
/// do {
///     try store.prepare(pipeline: "orders", version: 2, hash: hash, views: views)
/// } catch let error as ViewStoreError where error.code == .definitionChanged {
///     print(error.message) // "... rebuild them with this definition, or run the definition that built them"
/// }
/// ```
public struct ViewStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure. A struct of static constants, so kinds can be added without breaking
    /// exhaustive switches.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The name of the code, such as `"definitionChanged"`.
        public let name: String

        private init(_ name: String) { self.name = name }

        /// The code's name.
        public var description: String { name }

        /// The store path is a directory.
        public static let isDirectory = Code("isDirectory")
        /// The directory that should hold the store file does not exist.
        public static let missingDirectory = Code("missingDirectory")
        /// The store file (or its directory) cannot be written.
        public static let readOnly = Code("readOnly")
        /// The file exists but is not an SQLite database.
        public static let notADatabase = Code("notADatabase")
        /// The store file cannot be opened for another reason (see the SQLite code).
        public static let cannotOpen = Code("cannotOpen")
        /// Another connection held the write lock longer than the busy timeout.
        public static let busy = Code("busy")
        /// The store holds views of the pipeline built by a different definition (hash).
        public static let definitionChanged = Code("definitionChanged")
        /// A view name is already owned by another pipeline, or a foreign table has that name.
        public static let viewOwned = Code("viewOwned")
        /// A name is not a valid identifier (`[a-z_][a-z0-9_]*`).
        public static let invalidName = Code("invalidName")
        /// A view definition or change does not fit the prepared tables.
        public static let invalidDefinition = Code("invalidDefinition")
        /// Another connection swapped or dropped the pipeline's tables since they were prepared:
        /// prepare again and seek to the stored checkpoints.
        public static let generationChanged = Code("generationChanged")
        /// The pipeline (or its shadow) was not prepared on this store.
        public static let notPrepared = Code("notPrepared")
        /// The pipeline has no shadow generation to swap in.
        public static let noShadow = Code("noShadow")
        /// The view does not exist in the store.
        public static let noSuchView = Code("noSuchView")
        /// Two views that should be compared have different columns or keys.
        public static let schemaMismatch = Code("schemaMismatch")
        /// A stored value has a type views cannot hold (a BLOB in a view table).
        public static let unexpectedValue = Code("unexpectedValue")
        /// A read of the read API names an unknown column, has a value of the wrong type, a bad
        /// cursor or limit (the message says which).
        public static let invalidQuery = Code("invalidQuery")
        /// Any other SQLite failure (see the SQLite code).
        public static let sqlite = Code("sqlite")
        /// Any other PostgreSQL failure (see the message's SQLSTATE).
        public static let postgres = Code("postgres")
    }

    /// The kind of failure.
    public var code: Code
    /// What failed and what to do about it.
    public var message: String
    /// The SQLite result code name (such as `"SQLITE_BUSY"`) when SQLite reported the failure.
    public var sqliteCode: String?

    /// Creates an error.
    public init(code: Code, message: String, sqliteCode: String? = nil) {
        self.code = code
        self.message = message
        self.sqliteCode = sqliteCode
    }

    /// The message with the code and the SQLite result code name.
    public var description: String {
        if let sqliteCode {
            return "\(message) [\(code), \(sqliteCode)]"
        }
        return "\(message) [\(code)]"
    }
}
