internal import Projector
internal import KafkaClient

/// Produces events idempotently and waits until every one is delivered: used by the demo and the
/// benchmarks to fill topics.
public struct EventPublisher: Sendable {
    private let producer: KafkaProducer

    public init(brokers: String, properties: [String: String] = [:]) throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: brokers)
        configuration.isIdempotenceEnabled = true
        configuration.additionalProperties = properties
        producer = try KafkaProducer(configuration: configuration)
    }

    /// Sends every event, retrying when librdkafka's queue is full, then flushes.
    /// - Returns: how many events were delivered per topic.
    /// - Throws: ``KafkaError`` for the first failed delivery or a flush timeout.
    public func publish(_ events: some Sequence<DemoEvent>, timeout: Duration = .seconds(120)) throws -> [String: Int] {
        var delivered: [String: Int] = [:]
        for event in events {
            var key = event.key
            var value = event.value
            while true {
                do {
                    try key.withUTF8 { keyBytes in
                        try value.withUTF8 { valueBytes in
                            try producer.send(topic: event.topic, key: UnsafeRawBufferPointer(keyBytes),
                                              value: UnsafeRawBufferPointer(valueBytes), timestampMilliseconds: event.timestamp)
                        }
                    }
                    break
                } catch let error as KafkaError where error.code == .queueFull {
                    try collect(try producer.pollDeliveryReports(timeout: .milliseconds(100)), into: &delivered)
                }
            }
        }
        try producer.flush(timeout: timeout)
        try collect(try producer.pollDeliveryReports(), into: &delivered)
        return delivered
    }

    private func collect(_ reports: [KafkaDeliveryReport], into delivered: inout [String: Int]) throws(KafkaError) {
        for report in reports {
            if let error = report.error { throw error }
            delivered[report.topic, default: 0] += 1
        }
    }
}
