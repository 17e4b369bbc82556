import Foundation
import Pipelines
import Projector
import ProjectorTesting
import Testing
import Views
import ProjectorModel

@Suite("reset")
struct ResetTests {
    @Test("reset to earliest empties the views and drops the checkpoints; a reset to offsets rebuilds in place")
    func resets() throws {
        let plan = try RebuildSupport.ledger()
        let fixture = try RebuildSupport.cluster([("deposits", 2)])
        let brokers = fixture.bootstrapServers
        try RebuildSupport.produce((0 ..< 400).map { RebuildSupport.deposit($0, timestamp: 1_000_000 + Int64($0)) }, brokers: brokers)
        let database = try TemporaryDatabase()
        #expect(try RebuildSupport.rebuild(plan, path: database.path, brokers: brokers).outcome == .swapped)
        let store = try SQLiteViewStore(path: database.path)

        try Reset.toEarliest(projection: plan, store: store)
        #expect(try store.rows(ofView: "balances").rows.isEmpty)
        #expect(try store.checkpoints(pipeline: plan.name).isEmpty)
        #expect(try store.counters(pipeline: plan.name).isEmpty)

        let cut = [Checkpoint(topic: "deposits", partition: 0, nextOffset: 50), Checkpoint(topic: "deposits", partition: 1, nextOffset: 70)]
        let summary = try Rebuild(projection: plan, store: store,
                                  options: RebuildOptions(brokers: brokers, until: .offsets(cut), restarts: true))
            .run(until: ShutdownSignal())
        #expect(summary.outcome == .swapped)
        #expect(try store.checkpoints(pipeline: plan.name) == cut)
        #expect(try store.row(inView: "balances", key: [.text("~total")])?[2] == .integer(120))
    }
}
