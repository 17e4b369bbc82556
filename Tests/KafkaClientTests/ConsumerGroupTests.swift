import Foundation
import KafkaClient
import ProjectorTesting
import Testing

/// Records rebalance callbacks in a shared log and starts every assigned partition at `startOffset`.
/// With `pollingThread`, also logs `<member>|wrong-thread` for a callback on any other thread.
final class RecordingRebalanceHandler: KafkaRebalanceHandler, Sendable {
    let member: String
    let log: EventLog
    let startOffset: Int64
    let pollingThread: String?

    init(member: String, log: EventLog, startOffset: Int64, pollingThread: String? = nil) {
        self.member = member
        self.log = log
        self.startOffset = startOffset
        self.pollingThread = pollingThread
    }

    private func checkThread() {
        if let pollingThread, Thread.current.threadDictionary["polling-thread"] as? String != pollingThread {
            log.append("\(member)|wrong-thread")
        }
    }

    func consumer(_ consumer: KafkaConsumer, didAssign partitions: [KafkaTopicPartition]) -> [KafkaTopicPartition: KafkaOffset] {
        checkThread()
        for partition in partitions { log.append("\(member)|assign|\(partition)") }
        return Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaOffset(startOffset)) })
    }

    func consumer(_ consumer: KafkaConsumer, willRevoke partitions: [KafkaTopicPartition], isLost: Bool) {
        checkThread()
        for partition in partitions { log.append("\(member)|\(isLost ? "lost" : "revoke")|\(partition)") }
    }
}

@Suite("Consumer groups with the synchronous rebalance hook")
struct ConsumerGroupTests {
    @Test("two members split the partitions, start where the hook says, and revoke before the other reads",
          arguments: [KafkaConsumerConfiguration.AssignmentStrategy.range, .cooperativeSticky])
    func twoMembers(strategy: KafkaConsumerConfiguration.AssignmentStrategy) throws {
        let fixture = try MockClusterFixture()
        let topic = try fixture.makeTopic(partitions: 4)
        let producer = try KafkaProducer(configuration: fixture.producerConfiguration())
        for partition in 0 ..< Int32(4) {
            try producer.sendAll(topic: topic, values: (0 ..< 1000).map { "\(partition):\($0)" }, partition: partition)
        }
        let partitions = (0 ..< Int32(4)).map { KafkaTopicPartition(topic: topic, partition: $0) }
        let group = fixture.makeGroupID()

        // A committed offset of 200 that the hook's 500 must override.
        let committer = try KafkaConsumer(configuration: fixture.consumerConfiguration(groupID: group))
        try committer.commit(Dictionary(uniqueKeysWithValues: partitions.map { ($0, 200) }), mode: .sync)
        #expect(try committer.committed(partitions, timeout: .seconds(5)).values.allSatisfy { $0 == 200 })
        try committer.close()

        var configuration = fixture.consumerConfiguration(groupID: group)
        configuration.assignmentStrategy = strategy
        let log = EventLog()
        let a = try KafkaConsumer(configuration: configuration, rebalanceHandler: RecordingRebalanceHandler(member: "A", log: log, startOffset: 500, pollingThread: "poll-A"))
        try a.subscribe(topics: [topic])
        let threadA = PollingThread(a, name: "poll-A") { log.append("A|read|\($0.topicPartition)|\($0.offset)") }
        try waitUntil(deadline: .seconds(20), "A reads all partitions") {
            Set(log.all.filter { $0.hasPrefix("A|read|") }.map { $0.split(separator: "|")[2] }).count == 4
        }
        #expect(a.rebalanceProtocol == (strategy == .cooperativeSticky ? "COOPERATIVE" : "EAGER"))

        let b = try KafkaConsumer(configuration: configuration, rebalanceHandler: RecordingRebalanceHandler(member: "B", log: log, startOffset: 500, pollingThread: "poll-B"))
        try b.subscribe(topics: [topic])
        let threadB = PollingThread(b, name: "poll-B") { log.append("B|read|\($0.topicPartition)|\($0.offset)") }
        try waitUntil(deadline: .seconds(30), "B reads two partitions") {
            Set(log.all.filter { $0.hasPrefix("B|read|") }.map { $0.split(separator: "|")[2] }).count == 2
        }
        let assignmentA = Set(try a.assignment())
        let assignmentB = Set(try b.assignment())
        let entries = log.all
        try threadA.stop()
        try threadB.stop()

        // Hooks ran on the polling threads only, and close() revoked the last assignment there too.
        let afterClose = log.all
        #expect(!afterClose.contains { $0.contains("|wrong-thread") }, "\(afterClose.filter { !$0.contains("|read|") })")
        for partition in assignmentA {
            #expect(afterClose[entries.count...].contains("A|revoke|\(partition)"))
        }
        for partition in assignmentB {
            #expect(afterClose[entries.count...].contains("B|revoke|\(partition)"))
        }

        #expect(assignmentA.count == 2 && assignmentB.count == 2)
        #expect(assignmentA.isDisjoint(with: assignmentB))
        #expect(assignmentA.union(assignmentB) == Set(partitions))

        // After every assign, each member's first record of a partition is at offset 500.
        for member in ["A", "B"] {
            var awaitingFirst: Set<String> = []
            for entry in entries {
                let fields = entry.split(separator: "|").map(String.init)
                guard fields[0] == member else { continue }
                switch fields[1] {
                case "assign": awaitingFirst.insert(fields[2])
                case "read" where awaitingFirst.contains(fields[2]):
                    #expect(fields[3] == "500", "\(member) started \(fields[2]) at \(fields[3])")
                    awaitingFirst.remove(fields[2])
                default: break
                }
            }
        }
        // B never reads a partition before A has been told it is revoked.
        for partition in assignmentB {
            let firstRead = try #require(entries.firstIndex { $0.hasPrefix("B|read|\(partition)|") })
            let revoke = try #require(entries.firstIndex(of: "A|revoke|\(partition)"), "A was never told \(partition) was revoked")
            #expect(revoke < firstRead)
        }
        if strategy == .cooperativeSticky {
            // Incremental: A keeps its other partitions without a revoke.
            for partition in assignmentA {
                #expect(!entries.contains("A|revoke|\(partition)"))
            }
        }
    }

    @Test("a fenced member is told its partitions were lost, then gets them back at the hook's offsets")
    func assignmentLost() throws {
        let fixture = try MockClusterFixture()
        let topic = try fixture.makeTopic(partitions: 2)
        let producer = try KafkaProducer(configuration: fixture.producerConfiguration())
        try producer.sendAll(topic: topic, values: (0 ..< 20).map { "v\($0)" }, partition: 0)
        let log = EventLog()
        let consumer = try KafkaConsumer(
            configuration: fixture.consumerConfiguration(groupID: fixture.makeGroupID()),
            rebalanceHandler: RecordingRebalanceHandler(member: "A", log: log, startOffset: 5)
        )
        try consumer.subscribe(topics: [topic])
        var records: [ConsumedRecord] = []
        var events: [KafkaConsumerEvent] = []
        try consumer.consume(into: &records, events: &events) { records, _ in records.count >= 15 }
        #expect(records.first?.offset == 5)
        #expect(!consumer.isAssignmentLost)

        // The coordinator no longer knows the member: librdkafka treats the assignment as lost.
        fixture.cluster.pushRequestErrors([KafkaError.Code(rawValue: 25)], for: .heartbeat)   // UNKNOWN_MEMBER_ID
        try consumer.consume(into: &records, events: &events) { _, _ in
            log.all.filter { $0.hasPrefix("A|assign|") }.count >= 4
        }
        let entries = log.all
        #expect(entries.filter { $0.hasPrefix("A|lost|") }.count == 2, "\(entries)")
        #expect(!entries.contains { $0.hasPrefix("A|revoke|") })
        #expect(try Set(consumer.assignment()).count == 2)
        try consumer.close()
    }

    @Test("commits follow the group coordinator when it moves")
    func coordinatorMove() throws {
        let fixture = try MockClusterFixture(brokerCount: 3)
        let topic = try fixture.makeTopic(partitions: 1)
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        let group = fixture.makeGroupID()
        let producer = try KafkaProducer(configuration: fixture.producerConfiguration())
        try producer.sendAll(topic: topic, values: (0 ..< 10).map { "v\($0)" }, partition: 0)
        let consumer = try KafkaConsumer(configuration: fixture.consumerConfiguration(groupID: group))
        try consumer.subscribe(topics: [topic])
        _ = try consumer.consume(count: 10)
        try consumer.commit([partition: 4], mode: .sync)

        for broker in Int32(1) ... 3 {
            try fixture.cluster.setGroupCoordinator(group: group, broker: broker)
            let offset = Int64(5 + broker)
            try waitUntil("a commit through coordinator \(broker)") {
                try consumer.poll(timeout: .milliseconds(50)) { _ in }
                do {
                    try consumer.commit([partition: offset], mode: .sync)
                    return try consumer.committed([partition], timeout: .seconds(2))[partition] == offset
                } catch let error as KafkaError {
                    #expect(error.isRetriable || error.code == .notCoordinator, "\(error)")
                    return false
                }
            }
        }
        try consumer.close()
    }
}
