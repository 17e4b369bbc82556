import KafkaClient
@testable import Projector
import ProjectorModel
import Testing
import Views

/// A batch's partitions come in runs (a fetch answers a run of records per partition), but runs of
/// one partition may come back after another's: the per-partition figures a batch stores and
/// checks must not depend on that.
@Suite("worker: a batch's partitions")
struct BatchPartitionsTests {
    /// (topic, partition, offset) of a batch whose runs interleave: topic 0 partitions 0 and 1,
    /// partition 0 again, then topic 1 partition 0 (same partition number, another topic).
    static let layout: [(Int, Int32, Int64)] = [
        (0, 0, 10), (0, 0, 11), (0, 1, 5), (0, 1, 6), (0, 1, 7), (0, 0, 12), (1, 0, 40), (0, 1, 8), (1, 0, 41),
    ]

    static func withMessages<T>(_ body: (UnsafeBufferPointer<RawMessage>) throws -> T) rethrows -> T {
        let value: [UInt8] = Array(#"{"type":"x"}"#.utf8)
        return try value.withUnsafeBytes { bytes in
            let messages = layout.map { RawMessage(key: nil, value: bytes, topic: $0.0, partition: $0.1, offset: $0.2, timestamp: nil) }
            return try messages.withUnsafeBufferPointer(body)
        }
    }

    @Test("checkpoints: one past the highest offset of each partition, in first-seen order")
    func checkpointsAfterInterleavedRuns() {
        let checkpoints = Self.withMessages { BatchApplier.checkpoints(after: $0, topics: ["a", "b"]) }
        #expect(checkpoints == [
            Checkpoint(topic: "a", partition: 0, nextOffset: 13),
            Checkpoint(topic: "a", partition: 1, nextOffset: 9),
            Checkpoint(topic: "b", partition: 0, nextOffset: 42),
        ])
    }

    @Test("the fence compares each partition's first offset, not a later run's")
    func fenceUsesFirstOffsets() throws {
        let store = try SQLiteViewStore.inMemory()
        let view = ViewDefinition(name: "v", columns: [ColumnDefinition(name: "id", type: .text, defaultValue: .null)], keyColumns: [0])
        try store.prepare(pipeline: "p", version: 1, hash: "h", views: [view])
        let expected: [KafkaTopicPartition: Int64] = [
            KafkaTopicPartition(topic: "a", partition: 0): 10, KafkaTopicPartition(topic: "a", partition: 1): 5,
            KafkaTopicPartition(topic: "b", partition: 0): 40,
        ]
        try Self.withMessages { messages in
            try store.write(pipeline: "p", target: .live) { transaction in
                try PartitionFence.check(messages, topics: ["a", "b"], positions: expected, isAssignmentLost: false,
                                         isClaimed: true, transaction: &transaction)
            }
            // Partitions expected further on than their first record (not their later runs'): overtaken, only they.
            var ahead = expected
            ahead[KafkaTopicPartition(topic: "a", partition: 0)] = 11
            ahead[KafkaTopicPartition(topic: "a", partition: 1)] = 6
            let overtaken = try #require(throws: PartitionFence.Overtaken.self) {
                try store.write(pipeline: "p", target: .live) { transaction in
                    try PartitionFence.check(messages, topics: ["a", "b"], positions: ahead, isAssignmentLost: false,
                                             isClaimed: true, transaction: &transaction)
                }
            }
            #expect(overtaken.partitions == [KafkaTopicPartition(topic: "a", partition: 0), KafkaTopicPartition(topic: "a", partition: 1)])
        }
    }
}
