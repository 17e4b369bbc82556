import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ProjectorTestSupport
import ProjectorTesting
import Synchronization
import Testing

/// One sample of a Prometheus text page.
struct PrometheusSample: Equatable {
    var name: String
    var labels: [String: String]
    var value: Double
}

/// A strict parser of the Prometheus text format (0.0.4): every sample must belong to a family
/// declared by `# TYPE`, label values are quoted with escapes, values are floats.
enum PrometheusText {
    struct Malformed: Error, CustomStringConvertible {
        var line: String
        var description: String { "not Prometheus text: \(line)" }
    }

    static func parse(_ text: String) throws -> [PrometheusSample] {
        var types: [String: String] = [:]
        var samples: [PrometheusSample] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3)
                if parts.count >= 4, parts[1] == "TYPE" { types[String(parts[2])] = String(parts[3]) }
                continue
            }
            var rest = Substring(line)
            let name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
            guard !name.isEmpty else { throw Malformed(line: String(line)) }
            rest = rest.dropFirst(name.count)
            var labels: [String: String] = [:]
            if rest.first == "{" {
                rest = rest.dropFirst()
                while rest.first != "}" {
                    let label = String(rest.prefix { $0 != "=" })
                    rest = rest.dropFirst(label.count)
                    guard rest.hasPrefix("=\"") else { throw Malformed(line: String(line)) }
                    rest = rest.dropFirst(2)
                    var value = ""
                    while let character = rest.first, character != "\"" {
                        rest = rest.dropFirst()
                        if character == "\\", let escaped = rest.first {
                            rest = rest.dropFirst()
                            value.append(escaped == "n" ? "\n" : escaped)
                        } else {
                            value.append(character)
                        }
                    }
                    guard rest.first == "\"" else { throw Malformed(line: String(line)) }
                    rest = rest.dropFirst()
                    labels[label] = value
                    if rest.first == "," { rest = rest.dropFirst() }
                    guard !rest.isEmpty else { throw Malformed(line: String(line)) }
                }
                rest = rest.dropFirst()
            }
            guard rest.first == " ", let value = Double(rest.dropFirst().replacingOccurrences(of: "+Inf", with: "inf")) else {
                throw Malformed(line: String(line))
            }
            let family = ["_bucket", "_sum", "_count"].reduce(name) { family, suffix in
                types[family] == nil && family.hasSuffix(suffix) ? String(family.dropLast(suffix.count)) : family
            }
            guard types[family] != nil else { throw Malformed(line: "no # TYPE for \(name)") }
            samples.append(PrometheusSample(name: name, labels: labels, value: value))
        }
        return samples
    }
}

extension [PrometheusSample] {
    /// The samples of `name` whose labels include `labels`.
    func named(_ name: String, _ labels: [String: String] = [:]) -> [PrometheusSample] {
        filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
    }

    /// The sum of the samples of `name` whose labels include `labels`.
    func sum(_ name: String, _ labels: [String: String] = [:]) -> Double {
        named(name, labels).reduce(0) { $0 + $1.value }
    }

    /// Each partition's current status, as `"topic/partition": status`.
    var partitionStatuses: [String: String] {
        var result: [String: String] = [:]
        for sample in named("projector_partition_status") where sample.value == 1 {
            result["\(sample.labels["topic"] ?? "")/\(sample.labels["partition"] ?? "")"] = sample.labels["status"]
        }
        return result
    }
}

/// A `projector run … --http 127.0.0.1:0` child process and its endpoints.
final class ServedWorker {
    let process: Process
    let stderr: URL
    let port: Int

    init(_ arguments: [String], in directory: URL) throws {
        let (process, _, stderr) = try ProjectorExecutable.start(arguments + ["--http", "127.0.0.1:0"], in: directory, label: "served")
        self.process = process
        self.stderr = stderr
        var port: Int?
        try waitUntil(deadline: .seconds(30), pollInterval: .milliseconds(20), "the --http server's address on stderr") {
            let text = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"serving http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                port = Int(text[range].split(separator: ":").last!)
            }
            return port != nil || !process.isRunning
        }
        let output = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
        self.port = try #require(port, "projector run exited: \(output)")
    }

    var errorOutput: String { (try? String(contentsOf: stderr, encoding: .utf8)) ?? "" }

    /// GET `path`: the status code and body.
    func get(_ path: String) throws -> (status: Int, body: String) {
        let url = URL(string: "http://127.0.0.1:\(port)\(path)")!
        let result = Mutex<Result<(Int, String), any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: url) { data, response, error in
            if let error {
                result.withLock { $0 = .failure(error) }
            } else {
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                result.withLock { $0 = .success((status, String(decoding: data ?? Data(), as: UTF8.self))) }
            }
            done.signal()
        }.resume()
        guard done.wait(timeout: .now() + 10) == .success, let outcome = result.withLock({ $0 }) else {
            throw URLError(.timedOut)
        }
        return try outcome.get()
    }

    /// GET /metrics, parsed.
    func metrics() throws -> [PrometheusSample] {
        let (status, body) = try get("/metrics")
        #expect(status == 200)
        return try PrometheusText.parse(body)
    }

    /// GET a probe: its status code and JSON body.
    func probe(_ path: String) throws -> (status: Int, json: [String: Any]) {
        let (status, body) = try get(path)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "\(path): \(body)")
        return (status, json)
    }

    /// SIGTERM, then the exit status.
    func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }
}


/// Another process holding the SQLite write lock on `path` (the `sqlite3` shell inside
/// `BEGIN IMMEDIATE`) until ``release()``.
final class StoreLock {
    private let process = Process()
    private let input = Pipe()

    init(_ path: String) throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data("BEGIN IMMEDIATE;\nSELECT 'locked';\n".utf8))
        var seen = ""
        try waitUntil(deadline: .seconds(30), pollInterval: .zero, "sqlite3 to take the write lock") {
            seen += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
            return seen.contains("locked")
        }
    }

    func release() throws {
        input.fileHandleForWriting.write(Data("COMMIT;\n".utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
