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

    @Option(help: ArgumentHelp(
        "The producers' partitioner (consistent_random: librdkafka's default; murmur2_random: the Java client's): "
            + "a single-key read of a view keyed by the message key waits only for the key's partition.",
        valueName: "name"))
    var httpPartitioner: String = KeyPartitioner.Algorithm.consistentRandom.rawValue

    func validate() throws {
        guard (1 ... 100_000).contains(httpMaxPage) else { throw ValidationError("--http-max-page must be from 1 to 100000.") }
        guard httpMaxWait >= 0, httpMaxWait <= 3600 else { throw ValidationError("--http-max-wait must be from 0 to 3600 seconds.") }
        guard httpMaxWaits >= 0 else { throw ValidationError("--http-max-waits must not be negative.") }
        guard KeyPartitioner.Algorithm(rawValue: httpPartitioner) != nil else {
            throw ValidationError("--http-partitioner must be "
                + KeyPartitioner.Algorithm.allCases.map(\.rawValue).joined(separator: " or ") + "; got '\(httpPartitioner)'.")
        }
    }

    /// The read API over read-only connections to `db` (an SQLite file, or PostgreSQL reached with `database`).
    /// - Throws: exit 2 when the token file cannot be read or is empty; exit 1 when the store cannot be opened.
    /// `messageKeyed` are the views keyed by the message key (`Pipeline.messageKeyedViews`).
    func makeAPI(db: String, database: DatabaseOptions, topics: [String: Set<String>], messageKeyed: Set<String>) throws -> ReadAPI {
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
        return ReadAPI(stores: try openReadStores(db, database: database), limits: limits, bearerToken: token, pipelineTopics: topics,
                       messageKeyedViews: messageKeyed, partitioner: KeyPartitioner(KeyPartitioner.Algorithm(rawValue: httpPartitioner) ?? .consistentRandom))
    }
}
