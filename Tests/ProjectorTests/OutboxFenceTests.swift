import KafkaClient
import PostgresViews
@testable import Projector
import ProjectorModel
import ProjectorTestSupport
import ProjectorTesting
import Testing
import Views

/// The outbox relay checks the partition fence: only the worker holding a source partition's
/// current claim produces that partition's emitted records; a zombie leaves them for the owner.
@Suite("reliability: the outbox relay publishes only claimed partitions")
struct OutboxFenceTests {
    typealias Kind = EpochFenceTests.Kind

    static let pipeline = "fence_relay"
    static let source = "orders-fence"

    /// Two connections to one new store (two workers), the pipeline's outbox prepared on both.
    static func stores(_ kind: Kind) throws -> (any ViewStore, any ViewStore, TemporaryDatabase?) {
        let (first, second, database) = try kind.twoConnections(schemaPrefix: "outboxfence")
        for store in [first, second] {
            try store.prepare(pipeline: pipeline, version: 1, hash: "h", views: [Outbox.definition(pipeline: pipeline)])
        }
        return (first, second, database)
    }

    /// An outbox row emitted by the event at `partition`/`offset` of the source topic, to `topic`.
    static func row(partition: Int32, offset: Int64, topic: String) -> ViewChange {
        let key: [ViewValue] = [.text(source), .integer(Int64(partition)), .integer(offset), .integer(0)]
        let id = Outbox.id(pipeline: pipeline, topic: source, partition: partition, offset: offset, emit: 0)
        return ViewChange(view: 0, key: key, row: key + [.text(id), .text(topic), .text("k"), .text("{}"), .null, .null])
    }

    static func produced(_ topic: String, brokers: String) throws -> Int64 {
        let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: brokers))
        defer { try? consumer.close() }
        return try consumer.watermarks(KafkaTopicPartition(topic: topic, partition: 0), timeout: .seconds(10)).high
    }

    /// A fenced relay of `source` (emitted records by default) believing it holds `held`.
    static func relay(_ store: any ViewStore, brokers: String, source: (any OutboxSource)? = nil,
                      held: @escaping () -> [KafkaTopicPartition: Int64]) throws -> OutboxRelay {
        try OutboxRelay(
            pipeline: pipeline, source: source ?? EmitOutbox(pipeline: pipeline, store: store, view: 0),
            configuration: WorkerConfiguration(brokers: brokers),
            fence: OutboxFence(pipeline: pipeline, store: store, held: held), deliveryTimeout: .seconds(10))
    }

    /// Two workers on one store and a one-partition output topic: the zombie claimed source
    /// partitions 0 and 1 (epoch 1 each); ``takeZero()`` lets the successor claim partition 0.
    struct Workers {
        let cluster: MockClusterFixture
        let topic: String
        let zombie: any ViewStore
        let successor: any ViewStore
        let database: TemporaryDatabase?
        let zero = KafkaTopicPartition(topic: OutboxFenceTests.source, partition: 0)
        let one = KafkaTopicPartition(topic: OutboxFenceTests.source, partition: 1)
        let claims: [PartitionClaim]

        init(_ kind: Kind, topic: String) throws {
            cluster = try MockClusterFixture(brokerCount: 1)
            self.topic = try cluster.makeTopic(topic, partitions: 1)
            (zombie, successor, database) = try OutboxFenceTests.stores(kind)
            claims = try zombie.claim(pipeline: OutboxFenceTests.pipeline, owner: "zombie", partitions: [zero, one].map(Self.start))
        }

        /// A claim of `partition` from offset 0.
        static func start(_ partition: KafkaTopicPartition) -> Checkpoint {
            Checkpoint(topic: partition.topic, partition: partition.partition, nextOffset: 0)
        }

        /// The successor claims partition 0; returns the epochs it got.
        func takeZero() throws -> [Int64] {
            try successor.claim(pipeline: OutboxFenceTests.pipeline, owner: "successor", partitions: [Self.start(zero)]).map(\.epoch)
        }

        /// How many records the output topic holds.
        func produced() throws -> Int64 { try OutboxFenceTests.produced(topic, brokers: cluster.bootstrapServers) }
    }

    @Test("a zombie's relay leaves the records of a partition another worker claimed; the new owner produces them", arguments: Kind.enabled)
    func zombieRelayLeavesTakenPartition(kind: Kind) throws {
        let workers = try Workers(kind, topic: "fence-out")
        let (zero, one, emitted) = (workers.zero, workers.one, workers.topic)
        #expect(workers.claims.map(\.epoch) == [1, 1])
        // The zombie committed records of both partitions, then stalled; the group gave partition 0
        // to another worker, which claimed it.
        try workers.zombie.write(pipeline: Self.pipeline, target: .live) { transaction in
            try transaction.apply([Self.row(partition: 0, offset: 0, topic: emitted), Self.row(partition: 0, offset: 1, topic: emitted),
                                   Self.row(partition: 1, offset: 0, topic: emitted)])
        }
        #expect(try workers.takeZero() == [2])
        #expect(try workers.successor.claims(pipeline: Self.pipeline).map(\.epoch) == [2, 1])

        // The zombie wakes up still believing it holds both at epoch 1: it produces partition 1's record only.
        try Self.relay(workers.zombie, brokers: workers.cluster.bootstrapServers) { [zero: 1, one: 1] }.drain()
        #expect(try workers.produced() == 1)
        let left = try workers.successor.rows(ofView: Outbox.tableName(pipeline: Self.pipeline)).rows
        #expect(left.map { $0[Outbox.Column.sourcePartition] } == [.integer(0), .integer(0)], "partition 0's records stay for its owner")

        // The owner's relay produces them.
        try Self.relay(workers.successor, brokers: workers.cluster.bootstrapServers) { [zero: 2] }.drain()
        #expect(try workers.produced() == 3)
        #expect(try workers.successor.rows(ofView: Outbox.tableName(pipeline: Self.pipeline)).rows.isEmpty)
    }

    static func letter(partition: Int32, offset: Int64) -> DeadLetter {
        DeadLetter(topic: source, partition: partition, offset: offset, key: Array("k".utf8), value: Array("{".utf8),
                   error: "malformedJSON", publication: .pending)
    }

    @Test("dead letters too: a zombie publishes only its partitions' letters; given a partition back, it reads the passed-over ones again",
          arguments: Kind.enabled)
    func zombieLeavesDeadLettersOfTakenPartition(kind: Kind) throws {
        let workers = try Workers(kind, topic: "fence-dlq")
        let (zero, one) = (workers.zero, workers.one)
        // Letter ids 1 and 3 come from partition 0, id 2 from partition 1: the zombie's cursor passes id 1.
        try workers.zombie.write(pipeline: Self.pipeline, target: .live) { transaction in
            try transaction.addDeadLetters([Self.letter(partition: 0, offset: 0), Self.letter(partition: 1, offset: 0),
                                            Self.letter(partition: 0, offset: 1)])
        }
        _ = try workers.takeZero()

        var held: [KafkaTopicPartition: Int64] = [zero: 1, one: 1]
        let letters = DeadLetterOutbox(pipeline: Self.pipeline, topic: workers.topic, store: workers.zombie)
        let zombieRelay = try Self.relay(workers.zombie, brokers: workers.cluster.bootstrapServers, source: letters) { held }
        try zombieRelay.drain()
        #expect(try workers.produced() == 1, "only partition 1's letter")
        #expect(try workers.successor.deadLetters().map(\.letter.publication) == [.pending, .published, .pending])

        // Partition 0 comes back to the old worker (epoch 3): its relay reads the letters it passed over.
        _ = try workers.zombie.claim(pipeline: Self.pipeline, owner: "zombie", partitions: [Workers.start(zero)])
        held = [zero: 3, one: 1]
        try zombieRelay.drain()
        #expect(try workers.produced() == 3)
        #expect(try workers.successor.deadLetters().allSatisfy { $0.letter.publication == .published })
    }
}
