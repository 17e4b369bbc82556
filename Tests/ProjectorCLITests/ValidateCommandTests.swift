import ProjectorTestSupport
import ArgumentParser
import Foundation
import ProjectorTesting
import Testing
@testable import ProjectorCLI

@Suite struct ValidateCommandTests {
    static let root = ProjectorExecutable.repositoryRoot

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

    @Test
    func endToEndExitCodesAndStreams() throws {
        let bad = try Self.temporaryFile("name: Bad\nversion: 1\n")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let good = Self.root.appendingPathComponent("pipelines/order_saga.yaml").path
        let result = try ProjectorExecutable.run(["validate", good, bad])
        #expect(result.status == 2)
        #expect(result.stdout == "\(good): ok (1 view, 9 event types)\n")
        #expect(result.stderr.hasPrefix("\(bad):1:1: missing key `source`"))
        #expect(result.stderr.contains("\n\(bad):1:7: pipeline name `Bad` must match"))
    }
}
