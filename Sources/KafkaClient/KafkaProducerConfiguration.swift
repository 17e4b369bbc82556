/// Configuration of a ``KafkaProducer``: typed librdkafka properties with documented defaults,
/// plus ``additionalProperties`` for any other librdkafka property.
///
/// The defaults favour correctness: idempotence is on (each message is written once and in order per
/// partition, even when requests are retried), and `acks=all`.
///
/// ```swift
/// var configuration = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:9092")
/// configuration.linger = .milliseconds(20)
/// configuration.additionalProperties["compression.type"] = "lz4"
/// ```
public struct KafkaProducerConfiguration: Sendable {
    /// Brokers to bootstrap from, `host:port[,host:port...]`.
    /// librdkafka: bootstrap.servers
    public var bootstrapServers: String

    /// The client id shown in broker logs. Default `projector`.
    /// librdkafka: client.id
    public var clientID: String = "projector"

    /// Whether the producer is idempotent (exactly once, in order, per partition). Default `true`.
    /// librdkafka: enable.idempotence
    public var isIdempotenceEnabled: Bool = true

    /// The transactional id; set it to use transactions (implies idempotence). Default nil.
    /// librdkafka: transactional.id
    public var transactionalID: String?

    /// How long a transaction may stay open before the coordinator aborts it. Default 60 s.
    /// librdkafka: transaction.timeout.ms
    public var transactionTimeout: Duration = .seconds(60)

    /// How long messages wait to fill a batch before they are sent. Default 5 ms.
    /// librdkafka: linger.ms
    public var linger: Duration = .milliseconds(5)

    /// How long a message may take to be delivered, retries included, before it fails. Default 300 s.
    /// With a ``transactionalID`` it is capped at ``transactionTimeout``, as librdkafka requires.
    /// librdkafka: message.timeout.ms
    public var messageTimeout: Duration = .seconds(300)

    /// The most messages waiting in the producer queue; beyond it `send` throws `_QUEUE_FULL`. Default 100,000.
    /// librdkafka: queue.buffering.max.messages
    public var queueBufferingMaxMessages: Int = 100_000

    /// The most messages in one produce request per partition. Default 10,000.
    /// librdkafka: batch.num.messages
    public var batchNumMessages: Int = 10_000

    /// Whether producing to a topic the cluster does not have may create it. Default `false`.
    /// librdkafka: allow.auto.create.topics
    public var isAutoTopicCreationAllowed: Bool = false

    /// Any other librdkafka property, applied after (and overriding) the typed ones.
    public var additionalProperties: [String: String] = [:]

    /// Creates a configuration with the documented defaults.
    /// - Parameter bootstrapServers: `host:port[,host:port...]` (librdkafka: bootstrap.servers).
    public init(bootstrapServers: String) {
        self.bootstrapServers = bootstrapServers
    }

    /// The librdkafka properties in the order they are applied.
    var properties: [(key: String, value: String)] {
        var result: [(key: String, value: String)] = [
            ("bootstrap.servers", bootstrapServers),
            ("client.id", clientID),
            ("enable.idempotence", String(isIdempotenceEnabled)),
            ("linger.ms", millisecondsProperty(linger)),
            ("message.timeout.ms", millisecondsProperty(transactionalID == nil ? messageTimeout : min(messageTimeout, transactionTimeout))),
            ("queue.buffering.max.messages", String(queueBufferingMaxMessages)),
            ("batch.num.messages", String(batchNumMessages)),
            ("allow.auto.create.topics", String(isAutoTopicCreationAllowed)),
        ]
        if let transactionalID {
            result.append(("transactional.id", transactionalID))
            result.append(("transaction.timeout.ms", millisecondsProperty(transactionTimeout)))
        }
        result += additionalProperties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return result
    }
}
