import Foundation
import KafkaClient
import Pipelines
import Projector
import ProjectorTesting
import Synchronization
import Testing
import Views
import ProjectorModel

/// A live worker of the old definition meets a rebuild that swaps a new version in.
@Suite("rebuild and a running worker")
struct RebuildLiveWorkerTests {
    @Test("a worker of the old definition stops at its next batch after a new version is swapped in")
    func oldDefinitionStopsAfterSwap() throws {
        let fixture = try RebuildSupport.cluster([("deposits", 2)])
        try RebuildSupport.produce((0 ..< 500).map { RebuildSupport.deposit($0) }, brokers: fixture.bootstrapServers)
        let database = try TemporaryDatabase()
        let old = try RebuildSupport.ledger(version: 1)
        let worker = Worker(
            projection: old, store: try SQLiteViewStore(path: database.path, configuration: .init(busyTimeout: .seconds(30))),
            configuration: WorkerConfiguration(brokers: fixture.bootstrapServers, groupID: fixture.makeGroupID(),
                                               properties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]))
        let outcome = Mutex<Result<Worker.Progress, ProjectorError>?>(nil)
        let thread = Thread { outcome.withLock { $0 = Result { () throws(ProjectorError) in try worker.run(until: ShutdownSignal()) } } }
        thread.start()
        try waitUntil(deadline: .seconds(30), "the live worker to apply the first events") {
            let store = try SQLiteViewStore(path: database.path, configuration: .init(isReadOnly: true))
            return (try? store.checkpoints(pipeline: "ledger").reduce(0) { $0 + $1.nextOffset }) == 500
        }
        let summary = try RebuildSupport.rebuild(try RebuildSupport.ledger(version: 2), path: database.path, brokers: fixture.bootstrapServers)
        #expect(summary.outcome == .swapped)
        try RebuildSupport.produce((500 ..< 600).map { RebuildSupport.deposit($0) }, brokers: fixture.bootstrapServers)
        try waitUntil(deadline: .seconds(30), "the old worker to stop") { outcome.withLock { $0 != nil } }
        let result = try #require(outcome.withLock { $0 })
        guard case .failure(let error) = result else {
            Issue.record("the old definition kept writing the new tables")
            return
        }
        #expect(error.message.contains("rebuild"), "\(error.message)")
        let store = try SQLiteViewStore(path: database.path, configuration: .init(isReadOnly: true))
        #expect(try store.checkpoints(pipeline: "ledger").reduce(0) { $0 + $1.nextOffset } == 500, "nothing written after the swap")
    }
}
