import Foundation
import Pipelines
import PostgresViews
@testable import Projector
import ProjectorModel
import ProjectorTestSupport
import ProjectorTools
import ProjectorTesting
import Testing
import Views

/// A PostgreSQL batch reads the rows it touches with one statement per table (issue 15), and the
/// views it writes equal those of the same batches on SQLite, which reads row by row.
@Suite("PostgreSQL batches prefetch their rows", .enabled(if: TestPostgres.isEnabled))
struct PostgresPrefetchTests {
    static let topic = "ledger-prefetch"

    @Test("a batch touching many keys of two tables reads them in two statements; the views equal SQLite's")
    func oneReadPerTable() throws {
        let plan = Plan(try Pipeline(yaml: ReferenceLedger.pipeline(topic: Self.topic), file: "ledger.yaml"))
        let postgres = try PostgresViewStore(location: try TestPostgres.newSchema(prefix: "prefetch"))
        let database = try TemporaryDatabase()
        let sqlite = try SQLiteViewStore(path: database.path)
        for store in [postgres, sqlite] as [any ViewStore] {
            try store.prepare(pipeline: plan.name, version: plan.version, hash: plan.definitionHash, views: plan.views)
        }
        // 12 accounts: the second batch finds most of its balance rows stored by the first.
        let events = ReferenceLedger.events(count: 60, topic: Self.topic, accounts: 12).map { Array($0.value.utf8) }
        for (batch, first) in [(events[0 ..< 30], 0), (events[30...], 30)] {
            let before = postgres.rowReads
            for store in [postgres, sqlite] as [any ViewStore] {
                try BatchMessages.apply(Array(batch), first: Int64(first), BatchApplier(projection: plan, store: store, target: .live))
            }
            #expect(postgres.rowReads - before == 2, "one statement for ledger_balances, one for ledger_audit")
        }
        for view in plan.views.map(\.name) {
            let digest = try postgres.digest(ofView: view)
            #expect(digest == (try sqlite.digest(ofView: view)), "\(view)")
            if view == "ledger_audit" { #expect(digest.rowCount == 60) }
        }
    }
}
