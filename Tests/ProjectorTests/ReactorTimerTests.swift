import Foundation
import KafkaClient
import Pipelines
import Projector
import ProjectorTesting
import ProjectorTools
import Testing
import Views
import ProjectorModel

/// The reactor's payment timeout on the embedded broker: a durable timer fires once by stream
/// time, its compensations reach their topics, and a rebuild reproduces the timers and
/// publishes nothing.
@Suite("reactor: durable timers, end to end")
struct ReactorTimerTests {
    static func order(_ id: String, _ event: String, at timestamp: Int64) -> RebuildSupport.Event {
        RebuildSupport.Event(
            topic: "orders", key: id,
            value: #"{"eventId":"\#(event)","eventType":"OrderCreated","version":2,"data":{"orderId":"\#(id)","customerId":"c-1","totalAmount":5,"items":[]}}"#,
            timestamp: timestamp)
    }

    @Test("a payment timeout fires once, its commands are read back from their topics; a rebuild reproduces the timers and publishes nothing")
    func paymentTimeoutFiresOnce() throws {
        let fixture = try RebuildSupport.cluster([("orders", 1), ("payments", 1), ("inventory", 1)] + ReactorTests.commandTopics.map { ($0, 1) })
        let brokers = fixture.bootstrapServers
        let t0 = Int64(Date().timeIntervalSince1970 * 1_000) - 3_600_000
        let minute: Int64 = 60_000
        try RebuildSupport.produce([
            Self.order("o-7", "t-1", at: t0),
            Self.order("o-8", "t-2", at: t0 + minute),
            RebuildSupport.Event(topic: "payments", key: "o-8",
                                 value: #"{"eventId":"t-3","eventType":"PaymentProcessed","data":{"orderId":"o-8","amount":5}}"#,
                                 timestamp: t0 + 2 * minute),
            // The orders partition passes o-7's deadline (t0 + 15 min), not o-8's (t0 + 16 min): the
            // worker may apply these before o-8's payment, which is on another topic.
            Self.order("o-9", "t-4", at: t0 + 15 * minute + 20_000),
            Self.order("o-10", "t-5", at: t0 + 15 * minute + 40_000),
        ], brokers: brokers)
        let plan = try RebuildSupport.plan("order_saga_reactor")
        let database = try TemporaryDatabase()
        try RebuildSupport.runLive(plan, path: database.path, brokers: brokers)

        let commands = try ReactorTests.readBack(ReactorTests.commandTopics, brokers: brokers)
        let o7 = commands.filter { $0.key == "o-7" }.map(\.type).sorted()
        #expect(o7 == ["CancelOrder", "ProcessPayment", "ReleaseInventory", "ReserveInventory"], "\(o7)")
        let cancel = try #require(commands.first { $0.key == "o-7" && $0.type == "CancelOrder" })
        #expect(cancel.headers["projector.id"] == "order_saga_reactor/timer/orders/0/\(t0 + 15 * minute)/PaymentTimeout/o-7/10")
        #expect(cancel.value["reason"] as? String == "payment: timed out")
        #expect(cancel.value["commandId"] as? String == "t-1:timeout:cancel")
        #expect(!commands.contains { $0.key != "o-7" && ["CancelOrder", "ReleaseInventory"].contains($0.type) }, "no other order timed out")

        let store = try SQLiteViewStore(path: database.path)
        let timers = Timers.tableName(pipeline: plan.name)
        #expect(try store.rows(ofView: Outbox.tableName(pipeline: plan.name)).rows.isEmpty, "every acknowledged record left the outbox")
        let pending = try store.rows(ofView: timers).rows
        #expect(pending.map { $0[Timers.Column.key] } == [.text("o-10"), .text("o-9")], "o-7 fired, o-8 was paid")
        #expect(try StatusReport.make(store: store, brokers: nil).pipelines.first?.pendingTimers == 2)
        let saga = try store.rows(ofView: "reactor_saga").rows
        #expect(saga.contains { $0.first == .text("o-7") && $0.contains(.text("payment: timed out")) })
        let high = try ReactorTests.highWatermarks(brokers: brokers)

        // The rebuild fires o-7's timer again into its shadow; the swap keeps the live outbox
        // (empty) and the same pending timers, and a run afterwards produces nothing. One message
        // per batch: the timer scheduled in an earlier batch is read back through the window.
        let before = try RebuildSupport.snapshot(plan, path: database.path)
        #expect(try RebuildSupport.rebuild(plan, path: database.path, brokers: brokers) { $0.maxBatchMessages = 1 }.outcome == .swapped)
        #expect(try store.rows(ofView: timers).rows == pending)
        let after = try RebuildSupport.snapshot(plan, path: database.path)
        let compared = plan.views.indices.filter { $0 != plan.outboxView }
        #expect(compared.map { after.digests[$0] } == compared.map { before.digests[$0] }, "rebuild equals live, timers included")
        try RebuildSupport.runLive(plan, path: database.path, brokers: brokers)
        #expect(try ReactorTests.highWatermarks(brokers: brokers) == high, "a rebuild publishes nothing")
    }
}
