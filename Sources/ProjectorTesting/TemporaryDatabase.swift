public import Foundation

/// A unique temporary directory for a test's database files, removed when released.
///
/// ```swift
/// let temporary = try TemporaryDatabase()
/// let store = try SQLiteViewStore(path: temporary.path)
/// ```
// Sendable: immutable after init; removal happens once, in deinit.
public final class TemporaryDatabase: Sendable {
    /// The directory, created empty by `init`.
    public let directory: URL
    /// The database file path inside ``directory`` (not created).
    public let path: String

    /// Creates a fresh directory under the system temporary directory.
    /// - Parameter name: The database file name inside it.
    /// - Throws: The file system error when the directory cannot be created.
    public init(name: String = "views.sqlite") throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("projector-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent(name).path
    }

    /// A path for another file in ``directory``.
    public func path(named name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }
}
