import KafkaClient
import ProjectorTesting
import Testing

@Suite("Transactions through the producer API")
struct TransactionTests {
    // librdkafka 2.0.2's mock hands aborted transactional records to read_committed consumers and
    // does not store offsets sent to a transaction, so these tests check the API's outcomes
    // (each call succeeds, delivery reports, committed records readable), not isolation.
    @Test("commit and abort round trip, with offsets sent to the transaction")
    func commitAndAbort() throws {
        let fixture = try MockClusterFixture()
        let topic = try fixture.makeTopic(partitions: 1)
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        let group = fixture.makeGroupID()
        var configuration = fixture.producerConfiguration()
        configuration.transactionalID = fixture.makeName("txn")
        let producer = try KafkaProducer(configuration: configuration)
        try producer.initTransactions(timeout: .seconds(10))
        let metadata = try KafkaConsumerGroupMetadata(groupID: group)

        try producer.beginTransaction()
        for index in 0 ..< 10 {
            try producer.send(KafkaProducerMessage(topic: topic, partition: 0, value: Array("c\(index)".utf8)), id: UInt(index))
        }
        try producer.sendOffsetsToTransaction([partition: 7], groupMetadata: metadata, timeout: .seconds(10))
        try producer.commitTransaction(timeout: .seconds(10))
        let committedReports = try producer.pollDeliveryReports()
        #expect(committedReports.count == 10)
        #expect(committedReports.allSatisfy { $0.isDelivered })

        try producer.beginTransaction()
        for index in 0 ..< 5 {
            try producer.send(KafkaProducerMessage(topic: topic, partition: 0, value: Array("a\(index)".utf8)), id: UInt(100 + index))
        }
        try producer.sendOffsetsToTransaction([partition: 99], groupMetadata: metadata, timeout: .seconds(10))
        try producer.abortTransaction(timeout: .seconds(10))
        var abortedReports: [KafkaDeliveryReport] = []
        try waitUntil("reports of the aborted messages") {
            abortedReports += try producer.pollDeliveryReports(timeout: .milliseconds(50))
            return abortedReports.count == 5
        }
        // Aborted messages are either purged before sending or written and marked aborted.
        #expect(abortedReports.allSatisfy { $0.isDelivered || $0.error?.code == .purgeQueue })

        let consumer = try KafkaConsumer(configuration: fixture.consumerConfiguration(groupID: group))
        // The 2.0.2 mock acknowledges TxnOffsetCommit without storing the offsets, so only the
        // abort's side can be checked: offset 99 must never be committed.
        let committed = try consumer.committed([partition], timeout: .seconds(5))
        #expect(committed[partition] != 99, "the aborted transaction's offset must not commit")
        try consumer.assign([partition: .beginning])
        let records = try consumer.consume(count: 10)
        #expect(records.prefix(10).map(\.value) == (0 ..< 10).map { "c\($0)" })
        try consumer.close()
    }

    @Test("transaction calls without a transactional id fail clearly")
    func withoutTransactionalID() throws {
        let fixture = try MockClusterFixture()
        let producer = try KafkaProducer(configuration: fixture.producerConfiguration())
        let error = try #require(throws: KafkaError.self) { try producer.initTransactions(timeout: .seconds(1)) }
        #expect(error.message.contains("transactional"))
    }
}
