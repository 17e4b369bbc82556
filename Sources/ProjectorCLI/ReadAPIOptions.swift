import ArgumentParser
import Foundation
import ProjectorHTTP

/// The read API's options, shared by `run`, `rebuild` and `serve`.
struct ReadAPIOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Require Authorization: Bearer <token> on /views, the token being this file's content (trimmed).",
                               valueName: "file"))
    var httpTokenFile: String?

    @Option(help: ArgumentHelp("The most rows a page of GET /views/{view}/rows may ask for.", valueName: "rows"))
    var httpMaxPage: Int = 1000

    @Option(help: ArgumentHelp("The longest Prefer: wait=N a read may ask for.", valueName: "seconds"))
    var httpMaxWait: Double = 30

    @Option(help: ArgumentHelp("Reads waiting for a position at once; more get 429.", valueName: "count"))
    var httpMaxWaits: Int = 64

    func validate() throws {
        guard (1 ... 100_000).contains(httpMaxPage) else { throw ValidationError("--http-max-page must be from 1 to 100000.") }
        guard httpMaxWait >= 0, httpMaxWait <= 3600 else { throw ValidationError("--http-max-wait must be from 0 to 3600 seconds.") }
        guard httpMaxWaits >= 0 else { throw ValidationError("--http-max-waits must not be negative.") }
    }

    /// The read API over read-only connections to `db`.
    /// - Throws: exit 2 when the token file cannot be read or is empty; exit 1 when the store cannot be opened.
    func makeAPI(db: String, topics: [String: Set<String>]) throws -> ReadAPI {
        var token: String?
        if let httpTokenFile {
            guard let data = FileManager.default.contents(atPath: httpTokenFile),
                  let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else {
                printError("error: --http-token-file \(httpTokenFile): cannot read a token from it; write the token into that file")
                throw ExitCode(ExitStatus.usage)
            }
            token = text
        }
        let limits = ReadLimits(maxPageSize: httpMaxPage, maxWait: .milliseconds(Int64(httpMaxWait * 1000)), maxConcurrentWaits: httpMaxWaits)
        return ReadAPI(stores: try openReadStores(db), limits: limits, bearerToken: token, pipelineTopics: topics)
    }
}
