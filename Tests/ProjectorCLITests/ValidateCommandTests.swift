import ArgumentParser
import Foundation
import Testing
@testable import ProjectorCLI

@Suite struct ValidateCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func temporaryFile(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("validate-\(UUID().uuidString).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func parsesFiles() throws {
        let command = try ValidateCommand.parse(["a.yaml", "b.yaml"])
        #expect(command.files == ["a.yaml", "b.yaml"])
        #expect(throws: (any Error).self) { try ValidateCommand.parse([]) }
        let root = try ProjectorCommand.parseAsRoot(["validate", "x.yaml"])
        #expect(root is ValidateCommand)
    }

    @Test func reportsValidFiles() {
        let file = Self.root.appendingPathComponent("pipelines/order_summary.yaml").path
        let report = ValidateCommand.check([file])
        #expect(report == .init(output: ["\(file): ok (2 views, 3 event types)"], errors: [], exitCode: 0))
    }

    @Test func reportsEveryErrorWithItsPositionAndExitsWithTwo() throws {
        let good = Self.root.appendingPathComponent("pipelines/inventory.yaml").path
        let bad = try Self.temporaryFile("""
            name: t
            version: 1
            source: {topics: [a], type: $.t}
            views:
              v:
                key: [id]
                colums: {id: text}
            on:
              E: [{delete: w, key: {id: $.id}}]
            """)
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let report = ValidateCommand.check([good, bad, "/nonexistent.yaml"])
        #expect(report.exitCode == 2)
        #expect(report.output == ["\(good): ok (1 view, 4 event types)"])
        #expect(report.errors == [
            "\(bad):7:5: unknown key `colums` in view `v`; did you mean `columns`?",
            "\(bad):9:16: unknown view `w`",
            "/nonexistent.yaml: cannot read the file",
        ])
    }
}
