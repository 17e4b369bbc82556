import Foundation
import Testing
@testable import Pipelines

@Suite struct SmokeTests {
    @Test func contractExampleRuns() throws {
        let p = try Pipeline.load(path: repositoryRoot.appendingPathComponent("pipelines/order_summary.yaml").path)
        let plan = Plan(p)
        var store = MemoryStore(plan)
        let result = try run(plan, [
            TestMessage(key: "o-1", value: #"{"eventType":"OrderCreated","timestamp":"t1","version":2,"data":{"orderId":"o-1","customerId":"c-1","totalAmount":10.5,"currency":"USD","items":[{"quantity":2},{"quantity":3}]}}"#),
            TestMessage(key: "o-2", value: #"{"eventType":"OrderCreated","timestamp":"t2","data":{"orderId":"o-2","customerId":"c-1","amount":4,"items":[]}}"#),
        ], store: &store)
        print(result)
        print(store.rows(plan, "order_summary"))
        print(store.rows(plan, "customer_stats"))
        #expect(result.errors.isEmpty)
    }
}
