import ArgumentParser
import Foundation
import Pipelines
import ProjectorTestSupport
import ProjectorTools
import Testing
import Yams
@testable import ProjectorCLI

/// No container engine runs here, so `docker/` is checked by what can be checked without one: the
/// compose file parses, every `projector` command in it parses with the real CLI, every file it names
/// exists, its parts agree (topics, database, ports, scrape targets), and Prometheus' own tool accepts
/// the configuration and the alert rules.
@Suite("docker/ compose cluster")
struct DockerComposeTests {
    static let root = ProjectorExecutable.repositoryRoot
    static let docker = root.appendingPathComponent("docker")

    /// The compose file with YAML merge keys (`<<: *worker`) resolved, as compose resolves them.
    static func compose() throws -> [String: Any] {
        let text = try String(contentsOf: docker.appendingPathComponent("compose.yaml"), encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    static func services() throws -> [String: [String: Any]] {
        try #require(try compose()["services"] as? [String: [String: Any]])
    }

    /// A service's command as compose passes it: a list as is, a string split on blanks (the file
    /// uses no quoting in `projector` commands; a quote would make this split wrong, so it fails).
    static func arguments(of service: [String: Any]) throws -> [String] {
        if let list = service["command"] as? [String] { return list }
        let text = try #require(service["command"] as? String)
        #expect(!text.contains("\"") && !text.contains("'"), "quoted command: \(text)")
        return text.split(whereSeparator: \.isWhitespace).map(String.init)
    }

    /// The services that run the image built from docker/Dockerfile, i.e. `projector`.
    static func projectorServices() throws -> [String: [String: Any]] {
        try services().filter { _, service in
            let build = service["build"] as? [String: Any]
            return build?["dockerfile"] as? String == "docker/Dockerfile" || service["image"] as? String == "projector:local"
        }
    }

    static func option(_ name: String, in arguments: [String]) -> String? {
        arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
    }

    @Test("the cluster has Kafka in KRaft mode, PostgreSQL, a topic job, three workers, a producer and Prometheus")
    func services() throws {
        let services = try Self.services()
        let kafka = try #require(services["kafka"])
        let environment = try #require(kafka["environment"] as? [String: Any])
        #expect("\(environment["KAFKA_PROCESS_ROLES"] ?? "")".contains("controller"), "KRaft: the broker is its own controller")
        #expect(services.keys.allSatisfy { !$0.contains("zookeeper") })
        #expect("\(environment["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] ?? "")" == "false")
        #expect(services["postgres"] != nil && services["topics"] != nil && services["prometheus"] != nil)
        let workers = try Self.projectorServices().filter { try Self.arguments(of: $0.value).first == "run" }
        #expect(workers.keys.sorted() == ["worker-1", "worker-2", "worker-3"])
        let producer = try #require(Self.projectorServices()["producer"])
        #expect(try Self.arguments(of: producer).first == "demo")
    }

    @Test("every projector command parses with the real CLI, and its pipeline files exist and are valid")
    func commandsParse() throws {
        let services = try Self.projectorServices()
        #expect(services.count == 4)
        for (name, service) in services {
            let arguments = try Self.arguments(of: service)
            do {
                _ = try ProjectorCommand.parseAsRoot(arguments)
            } catch {
                Issue.record("\(name): `projector \(arguments.joined(separator: " "))` does not parse: \(ProjectorCommand.message(for: error))")
            }
            for path in arguments where path.hasPrefix("/app/pipelines/") {
                let local = Self.root.appendingPathComponent("pipelines/" + path.dropFirst("/app/pipelines/".count)).path
                #expect(FileManager.default.fileExists(atPath: local), "\(name) names \(path), which the image copies from \(local)")
                #expect(throws: Never.self) { try Pipeline.load(path: local) }
            }
        }
    }

    @Test("workers use the compose PostgreSQL with its credentials, and the topics job creates every topic they read")
    func partsAgree() throws {
        let services = try Self.services()
        let postgres = try #require(services["postgres"]?["environment"] as? [String: Any])
        let user = try #require(postgres["POSTGRES_USER"] as? String), database = try #require(postgres["POSTGRES_DB"] as? String)
        let topics = try #require(services["topics"])
        let topicsJob = try Self.arguments(of: topics).joined(separator: " ")
        for (name, service) in try Self.projectorServices() {
            let arguments = try Self.arguments(of: service)
            if arguments.first == "demo" {
                for topic in DemoFeed.topics { #expect(topicsJob.contains(topic), "the producer writes to \(topic)") }
                continue
            }
            let location = try #require(Self.option("--db", in: arguments))
            let db = try #require(URLComponents(string: location))
            #expect(db.scheme == "postgres" && db.host == "postgres" && db.user == user && db.path == "/" + database, "\(name): \(db)")
            let environment = try #require(service["environment"] as? [String: Any])
            #expect(environment["PGPASSWORD"] as? String == postgres["POSTGRES_PASSWORD"] as? String, "\(name): PGPASSWORD")
            for path in arguments where path.hasPrefix("/app/pipelines/") {
                let local = Self.root.appendingPathComponent("pipelines/" + path.dropFirst("/app/pipelines/".count)).path
                for topic in try Pipeline.load(path: local).topics {
                    #expect(topicsJob.contains("\(topic)"), "\(name) reads \(topic); the topics job must create it")
                }
            }
        }
    }

    @Test("Prometheus scrapes every worker at its --http port, and promtool accepts its configuration and rules")
    func prometheus() throws {
        let config = Self.docker.appendingPathComponent("prometheus.yml")
        let parsed = try #require(try Yams.load(yaml: String(contentsOf: config, encoding: .utf8)) as? [String: Any])
        let scrapes = try #require(parsed["scrape_configs"] as? [[String: Any]])
        let targets = scrapes.flatMap { ($0["static_configs"] as? [[String: Any]] ?? []).flatMap { $0["targets"] as? [String] ?? [] } }
        var expected: [String] = []
        for (name, service) in try Self.projectorServices() {
            let arguments = try Self.arguments(of: service)
            guard arguments.first == "run" else { continue }
            let http = try #require(Self.option("--http", in: arguments))
            expected.append(name + ":" + (http.split(separator: ":").last.map(String.init) ?? ""))
        }
        #expect(targets.sorted() == expected.sorted())
        let check = try run(["promtool", "check", "config", config.path])
        #expect(check.status == 0, "\(check.output)")
    }

    @Test("the alert rules file holds README's example rules, and promtool accepts them")
    func alertRules() throws {
        let rules = Self.docker.appendingPathComponent("alerts.yml")
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let block = try #require(readme.components(separatedBy: "Example alert rules:").dropFirst().first?
            .components(separatedBy: "```yaml\n").dropFirst().first?.components(separatedBy: "```").first)
        let file = try String(contentsOf: rules, encoding: .utf8)
        #expect(file.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n") + "\n" == block)
        let check = try run(["promtool", "check", "rules", rules.path])
        #expect(check.status == 0, "\(check.output)")
    }

    @Test("every file compose mounts and the Dockerfile copies exists; the runtime image has librdkafka")
    func filesExist() throws {
        for (name, service) in try Self.services() {
            for volume in service["volumes"] as? [String] ?? [] where volume.hasPrefix(".") {
                let host = String(volume.split(separator: ":")[0])
                #expect(FileManager.default.fileExists(atPath: Self.docker.appendingPathComponent(host).path), "\(name) mounts \(host)")
            }
        }
        let dockerfile = try String(contentsOf: Self.docker.appendingPathComponent("Dockerfile"), encoding: .utf8)
        let copies = dockerfile.split(separator: "\n").filter { $0.hasPrefix("COPY ") && !$0.contains("--from=") }
        #expect(!copies.isEmpty)
        for line in copies {
            let parts = line.split(separator: " ").dropFirst().dropLast()
            for source in parts {
                #expect(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(String(source)).path), "COPY \(source)")
            }
        }
        let stages = ("\n" + dockerfile).components(separatedBy: "\nFROM ").dropFirst()
        #expect(stages.count == 2, "a build stage and a runtime stage")
        #expect(stages.last?.contains("librdkafka1") == true)
        #expect(dockerfile.contains("ENTRYPOINT [\"projector\"]"))
    }

    private func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
