import CRdKafka
@testable import KafkaClient
import Testing

@Suite("librdkafka property scopes")
struct PropertyScopeTests {
    @Test("librdkafka's own table gives consumer-only and producer-only properties; shared ones pass both ways")
    func scopesFromLibrdkafka() {
        let scopes = NativePropertyScopes.scopes
        #expect(scopes["group.id"] == "C")
        #expect(scopes["fetch.wait.max.ms"] == "C")
        #expect(scopes["linger.ms"] == "P")
        #expect(scopes["enable.idempotence"] == "P")
        #expect(scopes["bootstrap.servers"] == nil, "a property of both kinds is kept for every client")
        let properties = [(key: "group.id", value: "g"), (key: "linger.ms", value: "5"), (key: "client.id", value: "c")]
        #expect(NativePropertyScopes.keeping(properties, for: RD_KAFKA_CONSUMER).map(\.key) == ["group.id", "client.id"])
        #expect(NativePropertyScopes.keeping(properties, for: RD_KAFKA_PRODUCER).map(\.key) == ["linger.ms", "client.id"])
    }

    @Test("rows are split at the first two bars and trimmed; headers, rules and other lines are passed over")
    func parsesRows() {
        let table = """
            Property   | C/P | Range | Default
            -----------|-----|-------|--------
            a.b        |  C  | 1 .. 2 | 1
            c          |  P  |       | x | y
            d          |  *  |       |
            no bars here
            e          |CP|
            """
        let scopes = Array(table.utf8).withUnsafeBufferPointer { NativePropertyScopes.parse(table: $0) }
        #expect(scopes == ["a.b": "C", "c": "P"])
    }
}
