import Foundation
import KafkaClient
import Pipelines
import PostgresViews
@testable import Projector
import ProjectorModel
import ProjectorTools
import ProjectorTestSupport
import ProjectorTesting
import Testing
import Views

/// Epoch-fenced checkpoints on both stores: a worker that lost its partition to a newer claim (a
/// zombie, paused past its session timeout) has its stale batch rolled back, whole.
@Suite("reliability: epoch-fenced checkpoints")
struct EpochFenceTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case sqlite, postgres
        var testDescription: String { rawValue }
        static var enabled: [Kind] { TestPostgres.isEnabled ? [.sqlite, .postgres] : [.sqlite] }

        /// Two connections to one new store of this kind (two workers); PostgreSQL in a new schema.
        func twoConnections(schemaPrefix: String) throws -> (any ViewStore, any ViewStore, TemporaryDatabase?) {
            switch self {
            case .sqlite:
                let database = try TemporaryDatabase()
                return (try SQLiteViewStore(path: database.path), try SQLiteViewStore(path: database.path), database)
            case .postgres:
                let location = try TestPostgres.newSchema(prefix: schemaPrefix)
                return (try PostgresViewStore(location: location), try PostgresViewStore(location: location), nil)
            }
        }
    }

    static let topic = "ledger-epoch"
    static let partition = KafkaTopicPartition(topic: topic, partition: 0)

    /// Two connections to one new store (two workers), the ledger pipeline prepared on both.
    static func stores(_ kind: Kind) throws -> (any ViewStore, any ViewStore, Plan, TemporaryDatabase?) {
        let plan = Plan(try Pipeline(yaml: ReferenceLedger.pipeline(topic: topic), file: "ledger.yaml"))
        let (first, second, database) = try kind.twoConnections(schemaPrefix: "epoch")
        for store in [first, second] {
            try store.prepare(pipeline: plan.name, version: plan.version, hash: plan.definitionHash, views: plan.views)
        }
        return (first, second, plan, database)
    }

    /// Applies events `first` and `first + 1` of partition 0 as a worker holding `epoch` that
    /// expects the checkpoint at `first`.
    static func apply(_ store: any ViewStore, _ plan: Plan, first: Int64, epoch: Int64) throws -> BatchApplier.Outcome {
        let applier = BatchApplier(projection: plan, store: store, target: .live)
        let values = ReferenceLedger.events(count: 2, topic: topic, from: Int(first)).map { Array($0.value.utf8) }
        let positions = [partition: first]
        return try values[0].withUnsafeBytes { a in
            try values[1].withUnsafeBytes { b in
                let messages = [RawMessage(key: nil, value: a, topic: 0, partition: 0, offset: first, timestamp: nil),
                                RawMessage(key: nil, value: b, topic: 0, partition: 0, offset: first + 1, timestamp: nil)]
                return try messages.withUnsafeBufferPointer { buffer in
                    try applier.apply(buffer, check: { transaction in
                        try PartitionFence.check(buffer, topics: [topic], positions: positions, isAssignmentLost: false,
                                                 isClaimed: true, transaction: &transaction)
                    }, storeCheckpoints: { transaction, checkpoints in
                        try PartitionFence.advance(checkpoints, positions: positions, epochs: [partition: epoch], transaction: &transaction)
                    })
                }
            }
        }
    }

    @Test("a claim raises the epoch; the old owner's stale batch is attempted and rolled back whole", arguments: Kind.enabled)
    func zombieBatchIsRejected(kind: Kind) throws {
        let (zombie, successor, plan, _) = try Self.stores(kind)
        let start = [Checkpoint(topic: Self.topic, partition: 0, nextOffset: 0)]
        let first = try zombie.claim(pipeline: plan.name, owner: "zombie", partitions: start)
        #expect(first == [PartitionClaim(topic: Self.topic, partition: 0, nextOffset: 0, epoch: 1)])
        _ = try Self.apply(zombie, plan, first: 0, epoch: 1)

        // The zombie stalls; the group gives the partition to another worker, which claims it.
        let second = try successor.claim(pipeline: plan.name, owner: "successor", partitions: start)
        #expect(second == [PartitionClaim(topic: Self.topic, partition: 0, nextOffset: 2, epoch: 2)])

        // The zombie wakes up with the next batch: its rows were written in the transaction, then
        // the checkpoint update found epoch 2, and everything rolled back.
        let fenced = try #require(throws: PartitionFence.Overtaken.self) {
            try Self.apply(zombie, plan, first: 2, epoch: 1)
        }
        #expect(fenced.isClaimLost)
        #expect(fenced.partitions == [Self.partition])
        #expect(try successor.rows(ofView: "ledger_audit").rows.count == 2, "nothing of the stale batch is kept")
        #expect(try successor.checkpoints(pipeline: plan.name).map(\.nextOffset) == [2])

        // The successor applies the same events once.
        let outcome = try Self.apply(successor, plan, first: 2, epoch: 2)
        #expect(outcome.checkpoints == [Checkpoint(topic: Self.topic, partition: 0, nextOffset: 4)])
        #expect(try successor.rows(ofView: "ledger_audit").rows.count == 4)
        #expect(try zombie.counters(pipeline: plan.name) == successor.counters(pipeline: plan.name))
    }

    @Test("a batch that does not start at the claimed checkpoint is rolled back", arguments: Kind.enabled)
    func movedCheckpointIsRejected(kind: Kind) throws {
        let (store, _, plan, _) = try Self.stores(kind)
        let claims = try store.claim(
            pipeline: plan.name, owner: "worker", partitions: [Checkpoint(topic: Self.topic, partition: 0, nextOffset: 0)])
        _ = try Self.apply(store, plan, first: 0, epoch: claims[0].epoch)
        // Same epoch, but the stored checkpoint is at 2, not 0: a replayed old batch.
        #expect(throws: PartitionFence.Overtaken.self) { try Self.apply(store, plan, first: 0, epoch: claims[0].epoch) }
        #expect(try store.rows(ofView: "ledger_audit").rows.count == 2)
    }
}
