import Foundation
import Pipelines
import ProjectorTesting
import Testing
@testable import Views

@Suite("Opening a store")
struct OpenErrorTests {
    enum BadPath: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case directory, missingParent, notSQLite, readOnlyFile, readerWithoutFile, readerOfForeignDatabase

        var testDescription: String { rawValue }

        var expected: ViewStoreError.Code {
            switch self {
            case .directory: .isDirectory
            case .missingParent: .missingDirectory
            case .notSQLite: .notADatabase
            case .readOnlyFile: .readOnly
            case .readerWithoutFile: .cannotOpen
            case .readerOfForeignDatabase: .notADatabase
            }
        }
    }

    @Test("bad store paths fail with a clear error", arguments: BadPath.allCases)
    func badPath(_ bad: BadPath) throws {
        let temporary = try TemporaryDatabase()
        var configuration = SQLiteViewStore.Configuration()
        let path: String
        switch bad {
        case .directory:
            path = temporary.directory.path
        case .missingParent:
            path = temporary.path(named: "missing/views.sqlite")
        case .notSQLite:
            path = temporary.path
            try Data(String(repeating: "this is not a database\n", count: 100).utf8).write(to: URL(fileURLWithPath: path))
        case .readOnlyFile:
            path = temporary.path
            do { _ = try SQLiteViewStore(path: path) }
            try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
        case .readerWithoutFile:
            path = temporary.path
            configuration.isReadOnly = true
        case .readerOfForeignDatabase:
            path = temporary.path
            configuration.isReadOnly = true
            // An empty file is a valid SQLite database, without the store's tables.
            try Data().write(to: URL(fileURLWithPath: path))
        }
        let error = try #require(throws: ViewStoreError.self) {
            _ = try SQLiteViewStore(path: path, configuration: configuration)
        }
        #expect(error.code == bad.expected)
        #expect(error.message.contains(path) || error.message.contains(temporary.directory.path))
        if bad == .notSQLite {
            #expect(error.sqliteCode == "SQLITE_NOTADB")
        }
    }

    @Test("a read-only file opens for reading")
    func readOnlyFileOpensForReading() throws {
        let temporary = try TemporaryDatabase()
        do {
            let store = try SQLiteViewStore(path: temporary.path)
            try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: temporary.path)
        let reader = try SQLiteViewStore(path: temporary.path, configuration: .init(isReadOnly: true))
        #expect(try reader.pipelines().map(\.name) == [Orders.name])
    }
}
