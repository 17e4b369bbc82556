import ProjectorTools
import ProjectorTestSupport
import Foundation
import KafkaClient
import Pipelines
import Projector
import ProjectorTesting
import Testing
import Views
import ProjectorModel

/// The example of a projection written in Swift: orders and revenue per customer, as the YAML
/// `order_summary` pipeline's `customer_stats` view computes them.
struct CustomerRevenue: CodeProjection {
    struct Payload: Decodable, Sendable {
        var orderId: String
        var customerId: String?
        var totalAmount: Double?
    }

    let name = "customer_revenue"
    let version = 1
    let topics = ["orders"]
    let views = [ViewDefinition(name: "customer_revenue", columns: [
        ColumnDefinition(name: "customer_id", type: .text, defaultValue: .null),
        ColumnDefinition(name: "orders", type: .integer, defaultValue: .integer(0)),
        ColumnDefinition(name: "revenue", type: .real, defaultValue: .real(0)),
    ], keyColumns: [0])]
    var errorPolicy = ErrorPolicy.fail

    struct Refused: Error {}

    func apply(_ event: DecodedEvent<Payload>, to views: inout ViewEditor) throws {
        guard event.type == "OrderCreated", let customer = event.payload.customerId else { return }
        try views.upsert("customer_revenue", key: [.text(customer)]) { row in
            guard case .integer(let orders) = row["orders"], case .real(let revenue) = row["revenue"] else { return }
            row["orders"] = .integer(orders + 1)
            row["revenue"] = .real(revenue + (event.payload.totalAmount ?? 0))
        }
        // A second change in the same event: a failure here must undo the first one too.
        if event.payload.totalAmount == -1 { throw Refused() }
    }
}

@Suite("Projections written in Swift")
struct CodeProjectionTests {
    @Test("a code projection and the YAML pipeline agree on orders and revenue per customer")
    func agreesWithYAML() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("orders", partitions: 3)
        _ = try EventPublisher(brokers: fixture.bootstrapServers).publish(DemoStream(count: 5_000).filter { $0.topic == "orders" })
        let database = try TemporaryDatabase()
        let store = try SQLiteViewStore(path: database.path)
        let plan = Plan(try Pipeline.load(path: ProjectorExecutable.repositoryRoot.appendingPathComponent("pipelines/order_summary.yaml").path))
        let workers = [
            Worker(projection: SwiftProjection(CustomerRevenue()), store: store, configuration: WorkerTests.configuration(fixture)),
            Worker(projection: plan, store: try SQLiteViewStore(path: database.path), configuration: WorkerTests.configuration(fixture)),
        ]
        for result in WorkerGroup.run(workers, until: ShutdownSignal()) { _ = try result.get() }
        let code = try store.rows(ofView: "customer_revenue").rows
        let yaml = try store.rows(ofView: "customer_stats").rows
        #expect(code.count == yaml.count && !code.isEmpty)
        for (mine, theirs) in zip(code, yaml) {
            #expect(mine[0] == theirs[0] && mine[1] == theirs[1])
            if case .real(let a) = mine[2], case .real(let b) = theirs[2] { #expect(abs(a - b) < 1e-6) }
        }
    }

    @Test("a failing event keeps none of its changes and follows the error policy")
    func failingEventIsAllOrNothing() throws {
        let fixture = try MockClusterFixture(brokerCount: 1)
        try fixture.cluster.createTopic("orders", partitions: 1)
        let events = [
            #"{"eventType":"OrderCreated","data":{"orderId":"o1","customerId":"c1","totalAmount":10}}"#,
            #"{"eventType":"OrderCreated","data":{"orderId":"o2","customerId":"c1","totalAmount":-1}}"#,
            #"{"eventType":"OrderCreated","data":{"orderId":3}}"#,
            #"{"eventType":"OrderCreated","data":{"orderId":"o4","customerId":"c1","totalAmount":5}}"#,
        ].map { DemoEvent(topic: "orders", key: "c1", value: $0) }
        _ = try EventPublisher(brokers: fixture.bootstrapServers).publish(events)
        let database = try TemporaryDatabase()
        let store = try SQLiteViewStore(path: database.path)
        var projection = CustomerRevenue()
        projection.errorPolicy = .deadLetter
        _ = try Worker(projection: SwiftProjection(projection), store: store, configuration: WorkerTests.configuration(fixture))
            .run(until: ShutdownSignal())
        #expect(try store.rows(ofView: "customer_revenue").rows == [[.text("c1"), .integer(2), .real(15)]])
        let letters = try store.deadLetters()
        #expect(letters.map(\.letter.offset) == [1, 2])
        #expect(letters.last?.letter.error.hasPrefix("malformedJSON") == true)
    }
}
