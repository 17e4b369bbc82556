import ProjectorTestSupport
import Foundation
import KafkaClient
import ProjectorTesting
import Testing

/// End to end: the built `projector` binary runs `dev-broker`, then `produce` writes to it.
@Suite("projector dev-broker and produce, end to end")
struct DevBrokerProduceTests {
    @Test("dev-broker prints its address first, produce writes every line, SIGTERM exits 0")
    func devBrokerAndProduce() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("projector-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let (broker, brokerOutput, _) = try ProjectorExecutable.start(
            ["dev-broker", "--brokers", "1", "--topic", "orders:3"], in: directory, label: "broker")
        defer { if broker.isRunning { broker.terminate() } }

        var address = ""
        try waitUntil(deadline: .seconds(10), "the bootstrap address line") {
            let text = (try? String(contentsOf: brokerOutput, encoding: .utf8)) ?? ""
            guard let line = text.split(separator: "\n", omittingEmptySubsequences: false).first, text.contains("\n") else { return false }
            address = String(line)
            return true
        }
        #expect(address.hasPrefix("127.0.0.1:"))

        let events = (0 ..< 1000).map { #"{"eventId":"e\#($0)","eventType":"OrderCreated","data":{"orderId":"o-\#($0 % 50)"}}"# }
        let good = directory.appendingPathComponent("good.jsonl")
        try (events.joined(separator: "\n") + "\n\n").write(to: good, atomically: true, encoding: .utf8)
        let produced = try ProjectorExecutable.run(["produce", "--brokers", address, "--topic", "orders", "--key-path", "$.data.orderId", good.path])
        #expect(produced.status == 0, "\(produced.stderr)")
        #expect(produced.stderr.contains("1000 event(s)"))

        let bad = directory.appendingPathComponent("bad.jsonl")
        try (events[0] + "\n{not json\n" + events[1] + "\n").write(to: bad, atomically: true, encoding: .utf8)
        let rejected = try ProjectorExecutable.run(["produce", "--brokers", address, "--topic", "orders", bad.path])
        #expect(rejected.status == 2)
        #expect(rejected.stderr.contains("line 2"))
        #expect(rejected.stderr.split(separator: "\n").count == 1)

        let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(bootstrapServers: address))
        let total = try (0 ..< Int32(3)).reduce(Int64(0)) { sum, partition in
            sum + (try consumer.watermarks(KafkaTopicPartition(topic: "orders", partition: partition), timeout: .seconds(5)).high)
        }
        #expect(total == 1000, "nothing from the malformed file may be sent")
        try consumer.close()

        broker.terminate()   // SIGTERM
        try waitUntil(deadline: .seconds(10), "dev-broker to exit") { !broker.isRunning }
        #expect(broker.terminationReason == .exit && broker.terminationStatus == 0)
    }
}
