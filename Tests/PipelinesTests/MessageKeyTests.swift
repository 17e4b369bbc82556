import Foundation
@testable import Pipelines
import Testing

/// `Pipeline.messageKeyedViews`: the views a single-key read may wait on one partition for.
@Suite struct MessageKeyTests {
    static let yaml = """
        name: shop
        version: 1
        source:
          topics: [orders]
          type: $.eventType
        views:
          orders:
            key: [order_id]
            columns: {order_id: text, status: text}
          by_customer:
            key: [customer_id]
            columns: {customer_id: text, orders: integer}
          mixed:
            key: [id]
            columns: {id: text, seen: integer}
        on:
          OrderPlaced:
            - upsert: orders
              key: {order_id: $key}
              set: {status: "'placed'"}
            - upsert: by_customer
              key: {customer_id: $.data.customerId}
              set:
                orders: coalesce(orders, 0) + 1
            - upsert: mixed
              key: {id: $key}
              set: {seen: 1}
          OrderCancelled:
            - delete: orders
              key: {order_id: $key}
            - update: mixed
              key: {id: $.data.otherId}
              set: {seen: 2}
        """

    @Test("a view is message-keyed when every operation writing it keys it by $key, and never with source.key")
    func messageKeyedViews() throws {
        #expect(try pipeline(Self.yaml).messageKeyedViews == ["orders"])
        let withSourceKey = Self.yaml.replacingOccurrences(of: "  type: $.eventType\n", with: "  type: $.eventType\n  key: $.data.orderId\n")
        #expect(try pipeline(withSourceKey).messageKeyedViews.isEmpty)
    }
}
