import Foundation
import KafkaClient
import ProjectorTesting
import ProjectorTestSupport
import Testing

/// The reactor's store-backed gauges on `/metrics`: pending timers and the outbox, read from the
/// store at each scrape, checked by `promtool check metrics`.
@Suite("operations: the reactor's timers and outbox on /metrics")
struct ReactorMetricsTests {
    @Test("projector_timers_pending counts the timers left to fire; projector_outbox_records drains to 0 once the relay produced every command")
    func timersAndOutboxGauges() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        for topic in ["orders", "payments", "inventory", "inventory-commands", "payment-commands", "shipping-commands", "order-commands"] {
            try fixture.cluster.createTopic(topic, partitions: 1)
        }
        // Two orders an hour ago, no payment: two timeouts scheduled 15 minutes after each, and
        // nothing later on the orders partition to reach them, so both stay pending.
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(bootstrapServers: fixture.bootstrapServers))
        let hourAgo = Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000
        for (index, order) in ["o-1", "o-2"].enumerated() {
            let value = #"{"eventId":"e-\#(index)","eventType":"OrderCreated","version":2,"data":{"orderId":"\#(order)","customerId":"c-1","totalAmount":5,"items":[]}}"#
            try producer.send(KafkaProducerMessage(topic: "orders", key: Array(order.utf8), value: Array(value.utf8),
                                                   timestampMilliseconds: hourAgo + Int64(index) * 60_000))
        }
        try producer.flush(timeout: .seconds(10))

        let directory = try TemporaryDatabase()
        let worker = try ServedWorker(
            ["run", "pipelines/order_saga_reactor.yaml", "--brokers", fixture.bootstrapServers, "--db", directory.path,
             "--group", fixture.makeGroupID()],
            in: URL(fileURLWithPath: directory.path).deletingLastPathComponent())
        defer { _ = worker.stop() }

        try waitUntil(deadline: .seconds(60), pollInterval: .milliseconds(50), "both orders applied and their commands produced") {
            let metrics = try worker.metrics()
            return metrics.sum("projector_checkpoint_offset") == 2 && !metrics.named("projector_outbox_records").isEmpty
                && metrics.sum("projector_outbox_records") == 0
        }
        let metrics = try worker.metrics()
        #expect(metrics.named("projector_timers_pending").map(\.labels) == [["pipeline": "order_saga_reactor"]])
        #expect(metrics.sum("projector_timers_pending") == 2)
        #expect(metrics.sum("projector_outbox_oldest_unsent_age_seconds") == 0)
        try OperationsHTTPTests.expectClean(worker)
    }
}
