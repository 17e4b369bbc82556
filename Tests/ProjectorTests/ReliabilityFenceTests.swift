import ProjectorTools
import ProjectorTestSupport
import Foundation
import KafkaClient
import Pipelines
@testable import Projector
import ProjectorTesting
import Testing
import Views
import ProjectorModel

/// The optimistic-concurrency fence of a batch: a worker whose partitions another worker advanced
/// (or took) rolls its batch back instead of applying it twice.
@Suite("reliability: the batch fence")
struct ReliabilityFenceTests {
    static let topic = "ledger-fence"

    /// A store with the ledger pipeline prepared and partition 0 checkpointed at `stored`.
    static func store(checkpoint stored: Int64?) throws -> (SQLiteViewStore, BatchApplier, TemporaryDatabase) {
        let database = try TemporaryDatabase()
        let plan = Plan(try Pipeline(yaml: ReferenceLedger.pipeline(topic: topic), file: "ledger.yaml"))
        let store = try SQLiteViewStore(path: database.path)
        try store.prepare(pipeline: plan.name, version: plan.version, hash: plan.definitionHash, views: plan.views)
        if let stored {
            try store.write(pipeline: plan.name) { transaction in
                try transaction.setCheckpoints([Checkpoint(topic: topic, partition: 0, nextOffset: stored)])
            }
        }
        return (store, BatchApplier(projection: plan, store: store, target: .live), database)
    }

    /// Applies two events at `first` and `first + 1` of partition 0 through the fence.
    static func applyFenced(_ applier: BatchApplier, first: Int64, positions: [KafkaTopicPartition: Int64],
                            isAssignmentLost: Bool = false) throws -> BatchApplier.Outcome {
        let values = ReferenceLedger.events(count: 2, topic: topic, from: Int(first)).map { Array($0.value.utf8) }
        return try values[0].withUnsafeBytes { a in
            try values[1].withUnsafeBytes { b in
                let messages = [RawMessage(key: nil, value: a, topic: 0, partition: 0, offset: first, timestamp: nil),
                                RawMessage(key: nil, value: b, topic: 0, partition: 0, offset: first + 1, timestamp: nil)]
                return try messages.withUnsafeBufferPointer { buffer in
                    try applier.apply(buffer) { transaction in
                        try PartitionFence.check(buffer, topics: [topic], positions: positions,
                                                 isAssignmentLost: isAssignmentLost, transaction: &transaction)
                    }
                }
            }
        }
    }

    static let partition = KafkaTopicPartition(topic: topic, partition: 0)

    @Test("a batch at the stored checkpoint applies; one behind it, not owned, or after a lost assignment rolls back",
          arguments: [
            (stored: Int64?.none, expected: Int64(0), first: Int64(0), owned: true, lost: false, applies: true),
            (stored: 10, expected: 10, first: 10, owned: true, lost: false, applies: true),
            (stored: 12, expected: 10, first: 10, owned: true, lost: false, applies: false),
            (stored: 10, expected: 10, first: 8, owned: true, lost: false, applies: false),
            (stored: 10, expected: 10, first: 10, owned: false, lost: false, applies: false),
            (stored: 10, expected: 10, first: 10, owned: true, lost: true, applies: false),
          ])
    func fence(_ row: (stored: Int64?, expected: Int64, first: Int64, owned: Bool, lost: Bool, applies: Bool)) throws {
        let (store, applier, _) = try Self.store(checkpoint: row.stored)
        let positions = row.owned ? [Self.partition: row.expected] : [:]
        if row.applies {
            let outcome = try Self.applyFenced(applier, first: row.first, positions: positions, isAssignmentLost: row.lost)
            #expect(outcome.checkpoints == [Checkpoint(topic: Self.topic, partition: 0, nextOffset: row.first + 2)])
            #expect(try store.rows(ofView: "ledger_audit").rows.count == 2)
        } else {
            #expect(throws: PartitionFence.Overtaken.self) {
                try Self.applyFenced(applier, first: row.first, positions: positions, isAssignmentLost: row.lost)
            }
            #expect(try store.rows(ofView: "ledger_audit").rows.isEmpty, "nothing of a fenced batch is written")
            #expect(try store.checkpoints(pipeline: ReferenceLedger.pipelineName).map(\.nextOffset) == (row.stored.map { [$0] } ?? []))
        }
    }
}
