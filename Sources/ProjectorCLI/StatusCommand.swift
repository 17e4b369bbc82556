import ArgumentParser
import Foundation
import Pipelines
import Projector
import ProjectorTools

/// `projector status`: checkpoints per pipeline, and lag with brokers.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each pipeline's identity and checkpoints, and its lag when --brokers is given.",
        discussion: """
        --json prints {"pipelines":[{"name","version","hash","dead_letters","unpublished_dead_letters",\
        "checkpoints":[{"topic","partition","next_offset","high_watermark","lag"}]}]} (the last two only \
        with --brokers). unpublished_dead_letters counts letters not yet on the dead-letter topic.

        Examples:
          projector status --db views.sqlite
          projector status --db views.sqlite --brokers 127.0.0.1:9092 --json
        """)

    @Option(help: "The SQLite file of the views.")
    var db: String

    @Option(help: "Bootstrap servers; with them, the high watermark and lag of every partition.")
    var brokers: String?

    @OptionGroup var librdkafka: LibrdkafkaPropertyOptions

    @Flag(help: "Print JSON (a stable, documented shape).")
    var json = false

    @Argument(help: "Only these pipelines (names stored in the db, or pipeline files).")
    var pipelines: [String] = []

    func run() throws {
        let store = try openStore(db, readOnly: true)
        var report: StatusReport
        do {
            report = try StatusReport.make(store: store, brokers: brokers, properties: try librdkafka.properties(command: "status"))
        } catch let error as ProjectorError {
            throw failure(error)
        }
        if !pipelines.isEmpty {
            let names = Set(pipelines.map(pipelineName(_:)))
            report.pipelines.removeAll { !names.contains($0.name) }
        }
        for topic in report.missingTopics where report.pipelines.contains(where: { $0.checkpoints.contains { $0.topic == topic } }) {
            printError("status: topic \(topic) does not exist at \(brokers ?? ""): no high watermark or lag for its partitions")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        if report.pipelines.isEmpty { print("no pipelines in \(db)") }
        for pipeline in report.pipelines {
            print("\(pipeline.name) v\(pipeline.version) (\(pipeline.hash.prefix(12)))")
            if pipeline.deadLetters > 0 {
                let unpublished = pipeline.unpublishedDeadLetters > 0
                    ? ", \(pipeline.unpublishedDeadLetters) not yet on the dead-letter topic" : ""
                print("dead letters: \(pipeline.deadLetters)\(unpublished)")
            }
            let rows = pipeline.checkpoints.map { checkpoint in
                [checkpoint.topic, String(checkpoint.partition), String(checkpoint.nextOffset),
                 checkpoint.highWatermark.map(String.init) ?? "-", checkpoint.lag.map(String.init) ?? "-"]
            }
            print(TextTable(columns: ["topic", "partition", "next_offset", "high_watermark", "lag"], rows: rows).rendered)
        }
    }
}

/// A pipeline name from a name or a pipeline file path (the file's `name:`; else its base name).
func pipelineName(_ argument: String) -> String {
    guard argument.hasSuffix(".yaml") || argument.hasSuffix(".yml") || argument.contains("/") else { return argument }
    return (try? Pipeline.load(path: argument))?.name ?? argument
}
