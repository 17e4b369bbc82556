import Foundation
import Pipelines
import Projector
import ProjectorTesting
import Testing
import Views
import ProjectorModel

@Suite("verify")
struct VerifyTests {
    @Test("verify says equal, then finds a row tampered with in the live table")
    func detectsTampering() throws {
        let plan = try RebuildSupport.plan("order_summary")
        let fixture = try RebuildSupport.cluster([("orders", 3)])
        let brokers = fixture.bootstrapServers
        try RebuildSupport.produce(try RebuildSupport.events(topics: ["orders"], generated: 2_000), brokers: brokers)
        let database = try TemporaryDatabase()
        #expect(try RebuildSupport.rebuild(plan, path: database.path, brokers: brokers).outcome == .swapped)

        func verify() throws -> VerificationReport {
            try #require(try Verification.run(
                projection: plan, live: try SQLiteViewStore(path: database.path, configuration: .init(isReadOnly: true)),
                scratch: try SQLiteViewStore(path: database.path(named: "scratch-\(UUID().uuidString).sqlite")),
                options: RebuildOptions(brokers: brokers), signal: ShutdownSignal()))
        }
        #expect(try verify().isEqual)

        let store = try SQLiteViewStore(path: database.path)
        try store.prepare(pipeline: plan.name, version: plan.version, hash: plan.definitionHash, views: plan.views)
        let original = try #require(try store.rows(ofView: "order_summary", limit: 1).rows.first)
        var tampered = original
        tampered[3] = .real(-1)
        try store.write(pipeline: plan.name) { transaction in
            try transaction.apply([ViewChange(view: 0, key: [original[0]], row: tampered)])
        }

        let report = try verify()
        #expect(!report.isEqual)
        #expect(report.views.filter { !$0.isEqual }.map(\.name) == ["order_summary"])
        #expect(report.differences == [
            VerificationReport.Difference(view: "order_summary", key: [original[0]], live: tampered, rebuilt: original),
        ])
    }

    @Test("verify refuses live views of another definition")
    func refusesOtherDefinition() throws {
        let fixture = try RebuildSupport.cluster([("deposits", 1)])
        try RebuildSupport.produce((0 ..< 10).map { RebuildSupport.deposit($0) }, brokers: fixture.bootstrapServers)
        let database = try TemporaryDatabase()
        #expect(try RebuildSupport.rebuild(try RebuildSupport.ledger(), path: database.path, brokers: fixture.bootstrapServers).outcome == .swapped)
        let error = try #require(throws: ProjectorError.self) {
            try Verification.run(
                projection: try RebuildSupport.ledger(version: 2), live: try SQLiteViewStore(path: database.path),
                scratch: try SQLiteViewStore(path: database.path(named: "scratch.sqlite")), options: RebuildOptions(brokers: fixture.bootstrapServers),
                signal: ShutdownSignal())
        }
        #expect(error.code == .usage)
    }
}
