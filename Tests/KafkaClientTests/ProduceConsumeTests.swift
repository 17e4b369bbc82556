import KafkaClient
import ProjectorTesting
import Testing

@Suite("Produce and batch-consume against the mock cluster")
struct ProduceConsumeTests {
    @Test("records round-trip with keys, headers, timestamps and tombstones")
    func roundTrip() throws {
        let fixture = try MockClusterFixture()
        let topic = try fixture.makeTopic(partitions: 3)
        let producer = try KafkaProducer(configuration: fixture.producerConfiguration())
        let baseTime: Int64 = 1_700_000_000_000
        for index in 0 ..< 30 {
            let message = KafkaProducerMessage(
                topic: topic,
                key: Array("order-\(index % 5)".utf8),
                value: index == 29 ? nil : Array("{\"n\":\(index)}".utf8),
                headers: [KafkaHeader(name: "eventType", string: "T\(index)"), KafkaHeader(name: "trace", value: nil)],
                timestampMilliseconds: baseTime + Int64(index)
            )
            try producer.send(message, id: UInt(index))
        }
        try producer.flush(timeout: .seconds(10))
        let reports = try producer.pollDeliveryReports()
        #expect(reports.count == 30)
        #expect(reports.allSatisfy { $0.isDelivered && $0.offset != nil && $0.topic == topic })

        let consumer = try KafkaConsumer(configuration: fixture.consumerConfiguration())
        try consumer.assign(Dictionary(uniqueKeysWithValues: (0 ..< 3).map { (KafkaTopicPartition(topic: topic, partition: $0), KafkaOffset.beginning) }))
        var records: [ConsumedRecord] = []
        var events: [KafkaConsumerEvent] = []
        try consumer.consume(into: &records, events: &events) { records, events in
            records.count >= 30 && events.filter { if case .endOfPartition = $0.kind { true } else { false } }.count >= 3
        }
        #expect(records.count == 30)
        for record in records {
            let index = Int(record.headers["eventType"]!!.dropFirst())!
            #expect(record.key == "order-\(index % 5)")
            #expect(record.value == (index == 29 ? nil : "{\"n\":\(index)}"))
            #expect(record.headers["trace"] == .some(nil))
            #expect(record.timestamp == KafkaTimestamp(milliseconds: baseTime + Int64(index), kind: .createTime))
            let report = try #require(reports.first { $0.id == UInt(index) })
            #expect(report.partition == record.partition && report.offset == record.offset)
        }
        // Same key, same partition; offsets increase per partition.
        for (_, group) in Dictionary(grouping: records, by: \.partition) {
            #expect(group.map(\.offset) == group.map(\.offset).sorted())
        }
        #expect(Set(Dictionary(grouping: records, by: \.key).values.map { Set($0.map(\.partition)).count }) == [1])
        try consumer.close()
    }

    @Test("a record's topic id is stable and names the topic")
    func topicIdentity() throws {
        let fixture = try MockClusterFixture()
        let first = try fixture.makeTopic(partitions: 1)
        let second = try fixture.makeTopic(partitions: 1)
        let producer = try KafkaProducer(configuration: fixture.producerConfiguration())
        try producer.sendAll(topic: first, values: ["a", "b"])
        try producer.sendAll(topic: second, values: ["c"])
        let consumer = try KafkaConsumer(configuration: fixture.consumerConfiguration())
        try consumer.assign([KafkaTopicPartition(topic: first, partition: 0): .beginning, KafkaTopicPartition(topic: second, partition: 0): .beginning])
        var ids: [String: Set<KafkaTopicID>] = [:]
        var count = 0
        try waitUntil("3 records") {
            try consumer.poll(timeout: .milliseconds(100)) { batch in
                for record in batch {
                    ids[record.topic, default: []].insert(record.topicID)
                    #expect(batch.topicName(record.topicID) == record.topic)
                    count += 1
                }
            }
            return count >= 3
        }
        #expect(ids[first]?.count == 1 && ids[second]?.count == 1)
        #expect(ids[first] != ids[second])
    }

    @Test("a message for a partition the topic lacks gets an error delivery report")
    func deliveryReportOfError() throws {
        let fixture = try MockClusterFixture()
        let topic = try fixture.makeTopic(partitions: 2)
        let producer = try KafkaProducer(configuration: fixture.producerConfiguration())
        // The producer has no metadata yet, so the message is queued and fails once it learns the topic has 2 partitions.
        try producer.send(KafkaProducerMessage(topic: topic, partition: 7, value: Array("x".utf8)), id: 42)
        try producer.flush(timeout: .seconds(10))
        let reports = try producer.pollDeliveryReports()
        let report = try #require(reports.first)
        #expect(reports.count == 1)
        #expect(report.id == 42 && report.topic == topic && report.partition == 7 && report.offset == nil)
        let error = try #require(report.error)
        #expect(error.code == .unknownPartition)
        #expect(error.code.name == "_UNKNOWN_PARTITION")
        #expect(error.topic == topic && error.partition == 7)
        // Now that the producer knows the topic, the same send fails at once.
        #expect(throws: KafkaError.self) { try producer.send(KafkaProducerMessage(topic: topic, partition: 7, value: []), id: 43) }
    }

    @Test("an idempotent producer under injected produce errors writes each message once, in order")
    func idempotenceUnderErrors() throws {
        let fixture = try MockClusterFixture()
        let topic = try fixture.makeTopic(partitions: 3)
        var configuration = fixture.producerConfiguration()
        configuration.isIdempotenceEnabled = true
        configuration.additionalProperties["retry.backoff.ms"] = "10"
        configuration.batchNumMessages = 20
        let producer = try KafkaProducer(configuration: configuration)
        // Warm up so that the errors hit produce requests, not the producer id request.
        try producer.sendAll(topic: topic, values: ["warm-up"], partition: 0)
        fixture.cluster.pushRequestErrors(
            [.notEnoughReplicas, .requestTimedOut, .notLeaderForPartition, .notEnoughReplicas, .leaderNotAvailable, .requestTimedOut],
            for: .produce
        )
        let values = (0 ..< 600).map { "\($0 % 3):\($0 / 3)" }
        for (index, value) in values.enumerated() {
            try producer.send(KafkaProducerMessage(topic: topic, partition: Int32(index % 3), value: Array(value.utf8)), id: UInt(index))
        }
        try producer.flush(timeout: .seconds(30))
        let reports = try producer.pollDeliveryReports()
        #expect(reports.count == 600)
        #expect(reports.allSatisfy { $0.isDelivered }, "\(reports.compactMap(\.error).prefix(3))")

        let consumer = try KafkaConsumer(configuration: fixture.consumerConfiguration())
        try consumer.assign(Dictionary(uniqueKeysWithValues: (0 ..< 3).map { (KafkaTopicPartition(topic: topic, partition: $0), KafkaOffset.beginning) }))
        let records = try consumer.consume(count: 601).filter { $0.value != "warm-up" }
        #expect(records.count == 600)
        for partition in 0 ..< 3 {
            let sequence = records.filter { $0.partition == partition }.map(\.value!)
            #expect(sequence == (0 ..< 200).map { "\(partition):\($0)" })
        }
    }

    @Test("a batch holds at most maxMessages; fillTimeout waits for a full batch")
    func batchSizes() throws {
        let fixture = try MockClusterFixture()
        let topic = try fixture.makeTopic(partitions: 1)
        let producer = try KafkaProducer(configuration: fixture.producerConfiguration())
        try producer.sendAll(topic: topic, values: (0 ..< 300).map { "v\($0)" }, partition: 0)
        let consumer = try KafkaConsumer(configuration: fixture.consumerConfiguration())
        try consumer.assign([KafkaTopicPartition(topic: topic, partition: 0): .beginning])
        var sizes: [Int] = []
        var offsets: [Int64] = []
        try waitUntil("300 records in batches of at most 100") {
            try consumer.poll(maxMessages: 100, timeout: .milliseconds(100), fillTimeout: .milliseconds(500)) { batch in
                sizes.append(batch.count)
                offsets += batch.map(\.offset)
            }
            return offsets.count >= 300
        }
        #expect(sizes.allSatisfy { $0 <= 100 })
        #expect(sizes.filter { $0 > 0 } == [100, 100, 100], "with a fill timeout, batches fill up")
        #expect(offsets == Array(0 ..< 300))
    }

    @Test("assign at an offset, then seek")
    func assignAndSeek() throws {
        let fixture = try MockClusterFixture()
        let topic = try fixture.makeTopic(partitions: 1)
        let producer = try KafkaProducer(configuration: fixture.producerConfiguration())
        try producer.sendAll(topic: topic, values: (0 ..< 100).map { "v\($0)" }, partition: 0)
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        let consumer = try KafkaConsumer(configuration: fixture.consumerConfiguration())
        try consumer.assign([partition: 10])
        #expect(try consumer.assignment() == [partition])
        let first = try consumer.consume(count: 1)
        #expect(first.first?.offset == 10)
        #expect(first.first?.value == "v10")

        try consumer.seek(partition, to: 50, timeout: .seconds(5))
        let afterSeek = try consumer.consume(count: 50)
        #expect(afterSeek.map(\.offset) == Array(50 ..< 100))
        #expect(try consumer.position([partition]) == [partition: 100])
    }

    @Test("pause stops a partition until resume")
    func pauseAndResume() throws {
        let fixture = try MockClusterFixture()
        let topic = try fixture.makeTopic(partitions: 2)
        let producer = try KafkaProducer(configuration: fixture.producerConfiguration())
        try producer.sendAll(topic: topic, values: (0 ..< 50).map { "a\($0)" }, partition: 0)
        try producer.sendAll(topic: topic, values: (0 ..< 50).map { "b\($0)" }, partition: 1)
        let p0 = KafkaTopicPartition(topic: topic, partition: 0)
        let p1 = KafkaTopicPartition(topic: topic, partition: 1)
        let consumer = try KafkaConsumer(configuration: fixture.consumerConfiguration())
        try consumer.assign([p0: .beginning, p1: .beginning])
        try consumer.pause([p1])
        var records: [ConsumedRecord] = []
        var events: [KafkaConsumerEvent] = []
        try consumer.consume(into: &records, events: &events) { _, events in
            events.contains { $0.topicPartition == p0 && { if case .endOfPartition = $0.kind { true } else { false } }($0) }
        }
        #expect(records.count == 50)
        #expect(records.allSatisfy { $0.partition == 0 })

        try consumer.resume([p1])
        records = []
        try consumer.consume(into: &records, events: &events) { records, _ in records.count >= 50 }
        #expect(records.map(\.value) == (0 ..< 50).map { "b\($0)" })
    }

    @Test("queuedMessages counts the records fetched ahead, up to queued.min.messages; wakeFetchers asks each leader")
    func queuedMessagesAndWake() throws {
        let fixture = try MockClusterFixture()
        let topic = try fixture.makeTopic(partitions: 2)
        let producer = try KafkaProducer(configuration: fixture.producerConfiguration())
        // Separate flushes: record batches of 20, and the mock answers a fetch with one batch per partition.
        for round in 0 ..< 3 { try producer.sendAll(topic: topic, values: (0 ..< 20).map { "r\(round)-\($0)" }, partition: 0) }
        var configuration = fixture.consumerConfiguration()
        configuration.queuedMinMessages = 10
        let consumer = try KafkaConsumer(configuration: configuration)
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        #expect(consumer.queuedMessages == 0)
        try consumer.assign([partition: .beginning])
        try waitUntil("the first batch fetched ahead") { consumer.queuedMessages >= 20 }
        // Past the bound librdkafka fetches no more (one batch, not all three).
        #expect(consumer.queuedMessages < 40)
        try consumer.wakeFetchers(leading: [partition, KafkaTopicPartition(topic: topic, partition: 1)], timeout: .seconds(5))
        var offsets: [Int64] = []
        try waitUntil(deadline: .seconds(60), pollInterval: .zero, "all three batches") {
            try consumer.poll(maxMessages: 1000, timeout: .milliseconds(100)) { batch in offsets += batch.map(\.offset) }
            try consumer.wakeFetchers(leading: [partition], timeout: .seconds(5))
            return offsets.count >= 60
        }
        #expect(offsets == Array(0 ..< 60))
    }

    @Test("watermarks, cached watermarks, and offsets-for-times on the mock")
    func watermarksAndOffsetsForTimes() throws {
        let fixture = try MockClusterFixture()
        let topic = try fixture.makeTopic(partitions: 1)
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        let producer = try KafkaProducer(configuration: fixture.producerConfiguration())
        try producer.sendAll(topic: topic, values: (0 ..< 20).map { "v\($0)" }, partition: 0)
        let consumer = try KafkaConsumer(configuration: fixture.consumerConfiguration())
        #expect(try consumer.watermarks(partition, timeout: .seconds(5)) == KafkaWatermarks(low: 0, high: 20))
        #expect(consumer.cachedWatermarks(partition) == nil, "nothing fetched yet")
        try consumer.assign([partition: .beginning])
        _ = try consumer.consume(count: 20)
        try waitUntil("cached high watermark") { consumer.cachedWatermarks(partition)?.high == 20 }

        // librdkafka 2.0.2's mock answers every ListOffsets-by-time with -1, so the documented
        // result is nil ("no offset known"), never a bogus offset.
        let offsets = try consumer.offsets(forTimes: [partition: 0], timeout: .seconds(5))
        #expect(offsets.count == 1)
        #expect(offsets[partition] == .some(nil))
    }

    @Test("bad configuration names the property and librdkafka's reason", arguments: [
        ("no.such.property", "1", "is not a librdkafka property"),
        ("fetch.wait.max.ms", "banana", "has an invalid value"),
        ("auto.offset.reset", "sideways", "has an invalid value"),
    ])
    func badConfiguration(key: String, value: String, kind: String) throws {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: "127.0.0.1:1")
        configuration.additionalProperties[key] = value
        let error = try #require(throws: KafkaError.self) { try KafkaConsumer(configuration: configuration) }
        #expect(error.code == .invalidArgument)
        #expect(error.code.name == "_INVALID_ARG")
        #expect(error.message.contains("'\(key)'"))
        #expect(error.message.contains(kind))
        #expect(error.message.contains("CONFIGURATION.md"))
        #expect(!error.isRetriable && !error.isFatal)
    }

    @Test("watermarks of an unknown topic fail naming the topic and partition")
    func unknownTopicWatermarks() throws {
        let fixture = try MockClusterFixture()
        let topic = fixture.makeName("missing")
        // The 2.0.2 mock would auto-create the topic on the first metadata request; make it answer "unknown" instead.
        fixture.cluster.setTopicError(topic, .unknownTopic)
        let consumer = try KafkaConsumer(configuration: fixture.consumerConfiguration())
        let error = try #require(throws: KafkaError.self) {
            try consumer.watermarks(KafkaTopicPartition(topic: topic, partition: 0), timeout: .seconds(5))
        }
        #expect([.unknownTopic, .localUnknownTopic, .unknownPartition].contains(error.code), "\(error)")
        #expect(error.topic == topic && error.partition == 0)
        #expect(error.description.contains(topic))
    }
}
