import Foundation
import KafkaClient
import ProjectorHTTP
import ProjectorTestSupport
import ProjectorTesting
import Testing

/// `KeyPartitioner` against librdkafka's own partitioners on a real (mock) broker.
@Suite("key partitioner")
struct KeyPartitionerTests {
    @Test("each key goes to the partition librdkafka's producer sends it to", arguments: KeyPartitioner.Algorithm.allCases)
    func matchesTheProducer(algorithm: KeyPartitioner.Algorithm) throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        let topic = try fixture.makeTopic("keys", partitions: 5)
        var configuration = fixture.producerConfiguration()
        configuration.additionalProperties["partitioner"] = algorithm.rawValue
        let producer = try KafkaProducer(configuration: configuration)
        let keys = (0 ..< 40).map { "order-\($0 * 7919)" } + ["", "é", "a-1"]
        for (index, key) in keys.enumerated() {
            try producer.send(KafkaProducerMessage(topic: topic, key: Array(key.utf8), value: Array("{}".utf8)), id: UInt(index))
        }
        try producer.flush(timeout: .seconds(30))
        let reports = try producer.pollDeliveryReports()
        #expect(reports.count == keys.count)
        let partitioner = KeyPartitioner(algorithm)
        for report in reports {
            let key = keys[Int(report.id)]
            #expect(report.error == nil)
            let expected = partitioner.partition(of: Array(key.utf8), count: 5)
            // consistent_random sends an empty key to a random partition: no partition to wait on.
            if key.isEmpty && algorithm == .consistentRandom {
                #expect(expected == nil)
            } else {
                #expect(report.partition == expected, "key '\(key)'")
            }
        }
        #expect(Set(reports.map(\.partition)).count > 1)
    }
}

extension ReadServerTests {
    /// A single-key read of a view keyed by the message key waits for the key's partition only.
    @Suite("read API: the key's partition")
    struct KeyPartitionReadTests {
        /// A key of `items` that `partitioner` sends to `partition` of 2.
        static func key(on partition: Int32, _ partitioner: KeyPartitioner) -> String {
            (0...).lazy.map { "k-\($0)" }.first { partitioner.partition(of: Array($0.utf8), count: 2) == partition }!
        }

        @Test("a token with another partition far behind: the key's read answers 200 at once; a page, or a key on that partition, waits",
              arguments: KeyPartitioner.Algorithm.allCases)
        func waitsOnlyForTheKeysPartition(algorithm: KeyPartitioner.Algorithm) throws {
            let partitioner = KeyPartitioner(algorithm)
            let fixture = try ReadFixture(messageKeyed: ["items"], partitioner: partitioner)
            let current = Self.key(on: 0, partitioner)
            let lagging = Self.key(on: 1, partitioner)
            try fixture.write([ReadFixture.item(current, "Anvil", price: 1, stock: 1, active: true, tags: nil, note: nil),
                               ReadFixture.item(lagging, "Bolt", price: 1, stock: 1, active: true, tags: nil, note: nil)],
                              checkpoints: [0: 10, 1: 4])
            // Partition 0 reached, partition 1 far ahead of the view.
            let token = ReadFixture.token([0: 10, 1: 1_000_000])
            let atOnce = try fixture.get("/views/items/rows/\(current)", headers: ["Projector-Min-Position": token])
            #expect(atOnce.status == 200, "\(atOnce.text)")
            let waited = try fixture.get("/views/items/rows?key.sku=\(current)", headers: ["Projector-Min-Position": token, "Prefer": "wait=5"])
            #expect(waited.status == 200, "\(waited.text)")
            #expect(waited.headers["preference-applied"] == "wait=5")

            let onLagging = try fixture.get("/views/items/rows/\(lagging)", headers: ["Projector-Min-Position": token])
            #expect(onLagging.status == 503)
            #expect(try onLagging.object()["behind"] as? [String] == ["orders/1"])
            #expect(try fixture.get("/views/items/rows", headers: ["Projector-Min-Position": token]).status == 503)
            // A view not keyed by the message key waits for the whole token.
            #expect(try fixture.get("/views/lines/rows/o-1,1", headers: ["Projector-Min-Position": token]).status == 503)
        }
    }
}
