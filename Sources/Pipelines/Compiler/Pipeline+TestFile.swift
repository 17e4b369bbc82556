import Foundation

extension Pipeline {
    /// The file that holds tests for the pipeline at `path` beside it: `NAME.test.yaml` for `NAME.yaml`.
    static func testFilePath(besides path: String) -> String {
        let base = path.hasSuffix(".yaml") ? String(path.dropLast(5)) : path.hasSuffix(".yml") ? String(path.dropLast(4)) : path
        return base + ".test.yaml"
    }

    /// The tests of this pipeline: its `tests:` section, then those of `NAME.test.yaml` beside
    /// `path` when that file exists (a file with one key, `tests:`).
    /// - Throws: ``PipelineError`` with `file:line:column` for a malformed test file.
    public func allTests(path: String) throws(PipelineError) -> [PipelineTest] {
        let testPath = Self.testFilePath(besides: path)
        guard let data = FileManager.default.contents(atPath: testPath) else { return tests }
        var builder = PipelineBuilder(file: testPath, text: String(decoding: data, as: UTF8.self))
        var found: [PipelineTest] = []
        do {
            if let root = try YAMLReader.read(builder.text),
               let pairs = builder.mapping(root, what: "a test file", allowed: ["tests"]) {
                if let node = pairs.first?.value { found = builder.buildTests(node, views: views, topics: topics) }
            }
        } catch {
            builder.report(error.code, error.message, line: error.line, column: error.column)
        }
        guard builder.problems.isEmpty else {
            var first = builder.problems[0]
            first.problems = builder.problems
            throw first
        }
        return tests + found
    }
}
