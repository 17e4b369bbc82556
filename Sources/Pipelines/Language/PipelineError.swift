import ProjectorModel

/// A problem in a pipeline definition, located at `file:line:column`.
///
/// A definition with several problems throws one `PipelineError` for the first problem whose
/// `problems` lists every problem found, in file order (the first one being the error itself).
///
/// ```swift
/// do { _ = try Pipeline(yaml: text, file: "orders.yaml") }
/// catch { for p in error.problems { print(p) } }   // orders.yaml:7:5: unknown key `colums` ...
/// ```
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    /// A kind of definition problem; a struct of static constants so kinds can be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The code's name, for example `unknownKey`.
        public var rawValue: String
        /// Creates a code from its name.
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// The code's name.
        public var description: String { rawValue }

        /// The file could not be read.
        public static let unreadableFile = Code("unreadableFile")
        /// The text is not well-formed YAML.
        public static let yamlSyntax = Code("yamlSyntax")
        /// The document is too large, too deep or expands too many aliases.
        public static let tooComplex = Code("tooComplex")
        /// A mapping key is not part of the language.
        public static let unknownKey = Code("unknownKey")
        /// A required key is absent.
        public static let missingKey = Code("missingKey")
        /// A mapping repeats a key.
        public static let duplicateKey = Code("duplicateKey")
        /// A value has the wrong YAML shape (mapping, sequence or scalar) or an invalid value.
        public static let invalidValue = Code("invalidValue")
        /// A pipeline, view or column name is not a valid identifier.
        public static let invalidName = Code("invalidName")
        /// A view or column name uses the reserved `_projector` prefix.
        public static let reservedName = Code("reservedName")
        /// A column type is not one of `text integer real boolean json`.
        public static let unknownType = Code("unknownType")
        /// An operation names a view that is not declared.
        public static let unknownView = Code("unknownView")
        /// An expression or key names a column that the view does not have.
        public static let unknownColumn = Code("unknownColumn")
        /// An operation's key does not give every key column of its view.
        public static let missingKeyColumn = Code("missingKeyColumn")
        /// A JSON path is malformed or used where it is not allowed.
        public static let invalidPath = Code("invalidPath")
        /// An expression does not parse, or uses an unknown function or wrong arity.
        public static let invalidExpression = Code("invalidExpression")
        /// An expression's type can never fit where it is used.
        public static let typeMismatch = Code("typeMismatch")
        /// An `emit` names a topic that `emit_topics` does not declare.
        public static let unknownTopic = Code("unknownTopic")
        /// A `schedule:` or `cancel_schedule:` names an event type without a handler.
        public static let unknownEvent = Code("unknownEvent")
        /// A key expression reads a row column.
        public static let keyReadsRow = Code("keyReadsRow")
    }

    /// What kind of problem this is.
    public var code: Code
    /// What is wrong and, where possible, what to write instead.
    public var message: String
    /// The pipeline file as given to `Pipeline(yaml:file:)`.
    public var file: String
    /// 1-based line, or 0 when unknown.
    public var line: Int
    /// 1-based column (in Unicode scalars), or 0 when unknown.
    public var column: Int
    /// Every problem found in the definition, in file order; `[self]` for a single problem.
    public var problems: [PipelineError] = []

    /// Creates an error.
    public init(code: Code, message: String, file: String, line: Int, column: Int) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column: message`, one line per problem.
    public var description: String {
        if problems.count > 1 { return problems.map(\.singleLine).joined(separator: "\n") }
        return singleLine
    }

    /// `file:line:column: message` for this problem alone (`file: message` when the position is unknown).
    public var singleLine: String { line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)" }
}
