import ArgumentParser
import Foundation
import Pipelines
import Projector
import ProjectorTools
import Views
import ProjectorModel

/// `projector dlq list|replay|skip`: the dead letters of `on_error: dead-letter` pipelines.
struct DeadLetterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "List, replay or skip dead-lettered events.",
        discussion: """
        Examples:
          projector dlq list --db views.sqlite
          projector dlq replay pipelines/order_summary.yaml --db views.sqlite
          projector dlq skip order_summary --db views.sqlite --id 3 --id 4
        """,
        subcommands: [List.self, Replay.self, Skip.self])

    /// `projector dlq list`.
    struct List: ParsableCommand {
        // Named, not derived: ArgumentParser derives a missing name with `String(describing: Self.self)`,
        // ~3 M instructions of conformance lookups at every start of every command (it names the whole tree).
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List dead letters (all pipelines, or one).")

        @Argument(help: "A pipeline name stored in the db, or a pipeline file.")
        var pipeline: String?

        @Option(help: "The views: an SQLite file, or a postgres://user@host:port/db URL.")
        var db: String

        @OptionGroup var database: DatabaseOptions

        @Option(help: "At most this many letters.")
        var limit: Int?

        @Flag(help: "Print JSON lines: id, pipeline, topic, partition, offset, error, time, key, value, park_key, parked_behind, published.")
        var json = false

        func run() throws {
            let store = try openStore(db, database: database, readOnly: true)
            let letters: [StoredDeadLetter]
            do {
                letters = try store.deadLetters(pipeline: pipeline.map(pipelineName(_:)), limit: limit)
            } catch {
                throw failure(ProjectorError(code: .database, message: "\(error)"))
            }
            let heads = Self.heads(letters)
            if json {
                for stored in letters { print(Self.json(stored, parkedBehind: heads[stored.id])) }
                return
            }
            if letters.isEmpty { print("no dead letters"); return }
            print(TextTable(
                columns: ["id", "pipeline", "topic", "partition", "offset", "parked behind", "error"],
                rows: letters.map { [String($0.id), $0.pipeline, $0.letter.topic, String($0.letter.partition),
                                     String($0.letter.offset), heads[$0.id].map(String.init) ?? "", $0.letter.error] }).rendered)
        }

        /// For each letter parked behind an earlier one of its key, the id of the key's first letter.
        static func heads(_ letters: [StoredDeadLetter]) -> [Int64: Int64] {
            var first: [String: Int64] = [:]
            var heads: [Int64: Int64] = [:]
            for stored in letters {
                guard let key = stored.letter.parkKey else { continue }
                let scoped = stored.pipeline + "\u{0}" + key
                if let head = first[scoped] { heads[stored.id] = head } else { first[scoped] = stored.id }
            }
            return heads
        }

        static func json(_ stored: StoredDeadLetter, parkedBehind: Int64?) -> String {
            let text = { (bytes: [UInt8]?) -> Any in bytes.map { String(decoding: $0, as: UTF8.self) } ?? NSNull() }
            let published: Any = switch stored.letter.publication {
            case .none: NSNull()
            case .pending: false
            case .published: true
            }
            let object: [String: Any] = [
                "id": stored.id, "pipeline": stored.pipeline, "topic": stored.letter.topic,
                "partition": Int(stored.letter.partition), "offset": stored.letter.offset, "error": stored.letter.error,
                "time": stored.letter.time, "key": text(stored.letter.key), "value": text(stored.letter.value),
                "park_key": stored.letter.parkKey ?? NSNull(), "parked_behind": parkedBehind ?? NSNull(),
                "published": published,
            ]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// `projector dlq replay`.
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay",
            abstract: "Apply dead letters again through the current pipeline file; letters that apply are deleted.",
            discussion: """
            Letters apply in id (arrival) order. Under `dead_letter: {park_key: true}` a key's letters keep \
            their order: the first that still fails parks its key again and the later ones stay. --id must \
            not leave out an earlier letter of a selected letter's key.
            Exit code 0 when every letter applied, 1 when some still fail (they stay), 2 for a selection \
            that would break a key's order (nothing is replayed).
            """)

        @Argument(help: "The pipeline file (its current definition is used).")
        var pipeline: String

        @Option(help: "The views: an SQLite file, or a postgres://user@host:port/db URL.")
        var db: String

        @OptionGroup var database: DatabaseOptions

        @Option(name: .customLong("id"), help: "Only this letter (repeatable).")
        var ids: [Int64] = []

        func run() throws {
            guard let plan = try loadPlans([pipeline]).first else { return }
            let replay = DeadLetterReplay(projection: plan, store: try openStore(db, database: database))
            let outcome: DeadLetterReplay.Outcome
            do {
                outcome = try replay.run(ids: ids.isEmpty ? nil : Set(ids))
            } catch {
                throw failure(error)
            }
            print("replayed \(outcome.replayed.count) dead letter(s) of \(plan.name)")
            for failing in outcome.stillFailing { printError("dead letter \(failing.id) still fails: \(failing.reason)") }
            if !outcome.stillFailing.isEmpty { throw ExitCode(ExitStatus.runtime) }
        }
    }

    /// `projector dlq skip`.
    struct Skip: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "skip",
            abstract: "Delete dead letters without applying them.",
            discussion: "A key parked behind skipped letters is released when none of its letters is left.")

        @Argument(help: "A pipeline name stored in the db, or a pipeline file.")
        var pipeline: String

        @Option(help: "The views: an SQLite file, or a postgres://user@host:port/db URL.")
        var db: String

        @OptionGroup var database: DatabaseOptions

        @Option(name: .customLong("id"), help: "Only this letter (repeatable).")
        var ids: [Int64] = []

        @Flag(help: "Delete every letter of the pipeline.")
        var all = false

        func validate() throws {
            guard all != !ids.isEmpty else { throw ValidationError("give --id ID (repeatable) or --all.") }
        }

        func run() throws {
            let store = try openStore(db, database: database)
            let name = pipelineName(pipeline)
            do {
                let chosen = try store.deadLetters(pipeline: name, limit: nil).map(\.id).filter { all || ids.contains($0) }
                let deleted = try store.skipDeadLetters(pipeline: name, ids: chosen)
                print("skipped \(deleted) dead letter(s) of \(name)")
            } catch {
                throw failure(ProjectorError(code: .database, message: "\(error)"))
            }
        }
    }
}
