internal import Foundation
internal import Projector
internal import Pipelines
internal import Views
internal import ProjectorModel

extension Demo {
    /// Orders placed 20 minutes before the demo runs and never paid: their Kafka timestamps lie
    /// in the past, so the events produced after them (timestamped now) carry each one's partition
    /// past its 15-minute payment deadline, and `order_saga_reactor`'s timers fire.
    static let abandonedOrders: [DemoEvent] = {
        let placed = Int64(Date().timeIntervalSince1970 * 1000) - 20 * 60_000
        return (1...3).map { number in
            let order = "ord-abandoned-\(number)"
            return DemoEvent(topic: "orders", key: order, value: #"{"eventId":"a-\#(number)","eventType":"OrderCreated","version":2,"data":"#
                + #"{"orderId":"\#(order)","customerId":"c-abandoned","totalAmount":10.00,"currency":"EUR","items":[{"sku":"SKU-RED","quantity":1,"price":10.00}]}}"#,
                timestamp: placed)
        }
    }()

    /// How the sagas of pipelines with timers ended: completed, compensated, timed out, and the
    /// timers still pending.
    func showSagas(_ plans: [Plan], print: (String) -> Void) throws(ProjectorError) {
        do {
            let store = try openStore(readOnly: true)
            let statuses = try store.pipelines()
            for plan in plans where plan.timersView != nil {
                let pending = statuses.first { $0.name == plan.name }?.pendingTimers ?? 0
                print("\n\(plan.name) timers: \(pending) pending")
                guard let view = plan.pipeline.views.first(where: { $0.columns.contains { $0.name == "failure_reason" } }) else { continue }
                let rows = try store.rows(ofView: view.name, limit: nil)
                guard let state = rows.columns.firstIndex(of: "state"), let reason = rows.columns.firstIndex(of: "failure_reason"),
                      let key = rows.columns.firstIndex(of: "order_id") else { continue }
                let completed = rows.rows.filter { $0[state] == .text("completed") }
                let timedOut = rows.rows.filter { $0[reason] == .text("payment: timed out") }
                let compensated = rows.rows.filter { $0[state] == .text("cancelled") && $0[reason] != .text("payment: timed out") }
                func example(_ rows: [[ViewValue]]) -> String { rows.first.map { " (e.g. \($0[key].displayText))" } ?? "" }
                print("sagas: \(completed.count) completed\(example(completed)), \(compensated.count) compensated\(example(compensated)), "
                    + "\(timedOut.count) timed out\(example(timedOut))")
            }
        } catch {
            throw ProjectorError(code: .database, message: "demo: \(error)")
        }
    }
}
