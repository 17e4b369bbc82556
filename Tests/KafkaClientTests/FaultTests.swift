import KafkaClient
import ProjectorTesting
import Testing

@Suite("Faults injected into the mock cluster")
struct FaultTests {
    @Test("a partition leader going down and up mid-consume loses nothing")
    func brokerDownThenUp() throws {
        let fixture = try MockClusterFixture(brokerCount: 3)
        let topic = try fixture.makeTopic(partitions: 3)
        let admin = try KafkaAdmin(bootstrapServers: fixture.bootstrapServers)
        let metadata = try #require(try admin.metadata(topics: [topic], timeout: .seconds(5)).topics.first)
        let leader = try #require(metadata.partitions.first?.leader)
        let onDownBroker = Set(metadata.partitions.filter { $0.leader == leader }.map(\.id))
        let onLiveBrokers = Set(metadata.partitions.map(\.id)).subtracting(onDownBroker)

        var producerConfiguration = fixture.producerConfiguration()
        producerConfiguration.additionalProperties["reconnect.backoff.ms"] = "10"
        producerConfiguration.additionalProperties["reconnect.backoff.max.ms"] = "100"
        let producer = try KafkaProducer(configuration: producerConfiguration)
        var configuration = fixture.consumerConfiguration()
        configuration.additionalProperties["reconnect.backoff.ms"] = "10"
        configuration.additionalProperties["reconnect.backoff.max.ms"] = "100"
        let consumer = try KafkaConsumer(configuration: configuration)
        try consumer.assign(Dictionary(uniqueKeysWithValues: (0 ..< Int32(3)).map { (KafkaTopicPartition(topic: topic, partition: $0), KafkaOffset.beginning) }))
        func count(_ records: [ConsumedRecord], in partitions: Set<Int32>) -> Int {
            records.filter { partitions.contains($0.partition) }.count
        }

        // First half, with every broker up.
        for partition in 0 ..< Int32(3) {
            try producer.sendAll(topic: topic, values: (0 ..< 500).map { "\(partition):\($0)" }, partition: partition)
        }
        var records: [ConsumedRecord] = []
        var events: [KafkaConsumerEvent] = []
        try consumer.consume(into: &records, events: &events) { records, _ in records.count >= 1500 }

        // Second half while the leader is down: live partitions keep flowing, the leader's stall.
        try fixture.cluster.setBrokerDown(leader)
        for partition in 0 ..< Int32(3) {
            for index in 500 ..< 1000 {
                try producer.send(KafkaProducerMessage(topic: topic, partition: partition, value: Array("\(partition):\(index)".utf8)))
            }
        }
        try consumer.consume(into: &records, events: &events) { records, _ in
            count(records, in: onLiveBrokers) >= 1000 * onLiveBrokers.count
        }
        #expect(count(records, in: onDownBroker) == 500 * onDownBroker.count, "nothing can be written to or read from the down leader")

        try fixture.cluster.setBrokerUp(leader)
        try producer.flush(timeout: .seconds(30))
        #expect(try producer.pollDeliveryReports().allSatisfy { $0.isDelivered })
        try consumer.consume(deadline: .seconds(30), into: &records, events: &events) { records, _ in records.count >= 3000 }

        #expect(records.count == 3000)
        for partition in 0 ..< Int32(3) {
            let inPartition = records.filter { $0.partition == partition }
            #expect(inPartition.map(\.offset) == Array(0 ..< 1000))
            #expect(inPartition.map(\.value) == (0 ..< 1000).map { "\(partition):\($0)" })
        }
    }

    @Test("a leader change and a slow broker mid-stream: producer and consumer follow, nothing lost")
    func leaderChangeAndRoundTripTime() throws {
        let fixture = try MockClusterFixture(brokerCount: 3)
        let topic = try fixture.makeTopic(partitions: 2)
        let admin = try KafkaAdmin(bootstrapServers: fixture.bootstrapServers)
        let leader = try #require(try admin.metadata(topics: [topic], timeout: .seconds(5)).topics.first?.partitions.first?.leader)
        let producer = try KafkaProducer(configuration: fixture.producerConfiguration())
        let consumer = try KafkaConsumer(configuration: fixture.consumerConfiguration())
        try consumer.assign([KafkaTopicPartition(topic: topic, partition: 0): .beginning, KafkaTopicPartition(topic: topic, partition: 1): .beginning])
        for partition in 0 ..< Int32(2) {
            try producer.sendAll(topic: topic, values: (0 ..< 500).map { "\(partition):\($0)" }, partition: partition)
        }
        var records = try consumer.consume(count: 1000)

        try fixture.cluster.setRoundTripTime(.milliseconds(30), broker: leader)
        let newLeader = leader % 3 + 1
        try fixture.cluster.setPartitionLeader(topic: topic, partition: 0, broker: newLeader)
        // The producer learns of the move from one record alone: librdkafka 2.0.2's idempotent producer
        // can lose a batch that fails NOT_LEADER_FOR_PARTITION at the old leader while later records
        // wait for the new one. rd_kafka_msgbatch_handle_Produce_result (rdkafka_request.c) lowers
        // rktp_msgs_inflight before it queues the batch for retry, so the new leader's thread ends its
        // drain and sends the later records first; the 2.0.2 mock checks sequence numbers only for
        // transactional producers (rd_kafka_mock_validate_records), so it appends them, and the
        // producer reports the failed batch delivered ("implicitly acked by subsequent batch success").
        try producer.sendAll(topic: topic, values: ["0:500"], partition: 0)
        for partition in 0 ..< Int32(2) {
            let next = partition == 0 ? 501 : 500
            try producer.sendAll(topic: topic, values: (next ..< 1000).map { "\(partition):\($0)" }, partition: partition)
        }
        records += try consumer.consume(count: 1000)
        #expect(try admin.metadata(topics: [topic], timeout: .seconds(5)).topics.first?.partitions.first?.leader == newLeader)
        for partition in 0 ..< Int32(2) {
            let inPartition = records.filter { $0.partition == partition }
            #expect(inPartition.map(\.offset) == Array(0 ..< 1000))
            #expect(inPartition.map(\.value) == (0 ..< 1000).map { "\(partition):\($0)" })
        }
    }

    @Test("subscribing to a topic the cluster lacks reports UNKNOWN_TOPIC_OR_PART for that topic")
    func unknownTopicConsumer() throws {
        let fixture = try MockClusterFixture()
        let topic = fixture.makeName("missing")
        // The 2.0.2 mock would auto-create the topic on the first metadata request; make it answer "unknown" instead.
        fixture.cluster.setTopicError(topic, .unknownTopic)
        var configuration = fixture.consumerConfiguration(groupID: fixture.makeGroupID())
        // librdkafka reports a missing subscribed topic only after this delay (default 30 s).
        configuration.additionalProperties["topic.metadata.propagation.max.ms"] = "100"
        let consumer = try KafkaConsumer(configuration: configuration)
        try consumer.subscribe(topics: [topic])
        var records: [ConsumedRecord] = []
        var events: [KafkaConsumerEvent] = []
        try consumer.consume(into: &records, events: &events) { _, events in
            events.contains { if case .error = $0.kind { true } else { false } }
        }
        guard case .error(let error) = try #require(events.first { if case .error = $0.kind { true } else { false } }).kind else { return }
        #expect(error.code == .unknownTopic)
        #expect(error.code.name == "UNKNOWN_TOPIC_OR_PART")
        #expect(error.message.contains(topic))
        #expect(!error.isFatal)
        try consumer.close()
    }
}

@Suite("Admin and metadata")
struct AdminTests {
    @Test("metadata lists partitions and leaders, from an admin client or a consumer; CreateTopics on the mock fails with advice")
    func metadataAndTopics() throws {
        let fixture = try MockClusterFixture(brokerCount: 3)
        let topic = try fixture.makeTopic(partitions: 5)
        let admin = try KafkaAdmin(bootstrapServers: fixture.bootstrapServers)
        let metadata = try admin.metadata(topics: [topic], timeout: .seconds(5))
        #expect(metadata.brokers.count == 3)
        let described = try #require(metadata.topics.first)
        #expect(described.name == topic && described.error == nil)
        #expect(described.partitions.map(\.id) == [0, 1, 2, 3, 4])
        #expect(described.partitions.allSatisfy { (1 ... 3).contains($0.leader) })
        #expect(metadata.topic(named: topic) == described)
        #expect(metadata.controllerID == nil, "the 2.0.2 mock advertises no controller")

        // A consumer answers the same over its own connection, and asking it creates nothing.
        let consumer = try KafkaConsumer(configuration: fixture.consumerConfiguration())
        defer { try? consumer.close() }
        let missing = fixture.makeName("absent")
        let seen = try consumer.metadata(topics: [topic, missing], timeout: .seconds(5))
        #expect(seen.topics == [described] && seen.brokers.count == 3)
        #expect(try admin.metadata(timeout: .seconds(5)).topic(named: missing) == nil)

        // librdkafka 2.0.2's mock advertises no controller, so CreateTopics cannot be answered:
        // the error must say so and point at MockCluster.createTopic.
        let error = try #require(throws: KafkaError.self) {
            try admin.createTopics([KafkaNewTopic(name: fixture.makeName("created"), partitions: 2)], timeout: .milliseconds(500))
        }
        #expect(error.code == .timedOut)
        #expect(error.message.contains("MockCluster.createTopic"))
    }

    @Test("looking up a missing topic does not create it, though the mock creates any topic a request names")
    func lookingDoesNotCreate() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        let missing = fixture.makeName("missing")
        let admin = try KafkaAdmin(bootstrapServers: fixture.bootstrapServers)
        let named = try admin.metadata(topics: [missing], timeout: .seconds(5))
        #expect(named.topics.isEmpty && named.topic(named: missing) == nil)
        #expect(try admin.metadata(timeout: .seconds(5)).topic(named: missing) == nil)

        // createTopic looks first: no controller (the mock) fails at once, an existing topic too.
        let started = ContinuousClock.now
        let noController = try #require(throws: KafkaError.self) { try admin.createTopic(missing, partitions: 8, timeout: .seconds(30)) }
        #expect(noController.code == .notController && noController.topic == missing)
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(try admin.metadata(timeout: .seconds(5)).topic(named: missing) == nil)
        let existing = try fixture.makeTopic(partitions: 2)
        let exists = try #require(throws: KafkaError.self) { try admin.createTopic(existing, partitions: 8, timeout: .seconds(5)) }
        #expect(exists.code == .topicAlreadyExists && exists.message.contains("2 partition(s)"))

        // A consumer's watermark query names the topic: the mock creates it, and the listing shows it.
        let consumer = try KafkaConsumer(configuration: fixture.consumerConfiguration())
        _ = try? consumer.watermarks(KafkaTopicPartition(topic: missing, partition: 0), timeout: .seconds(5))
        try consumer.close()
        try waitUntil(deadline: .seconds(10), "the named topic to appear") {
            try admin.metadata(timeout: .seconds(5)).topic(named: missing) != nil
        }
    }
}
