internal import CRdKafka

/// An error from librdkafka or from this wrapper, with librdkafka's error name and advice on what to do.
///
/// `KafkaError` is the only error type `KafkaClient` throws. It never carries a C type: the librdkafka
/// code is kept as a ``Code`` (number and name, e.g. `UNKNOWN_TOPIC_OR_PART`), and the flags librdkafka
/// attaches (`rd_kafka_error_is_retriable`, `rd_kafka_error_is_fatal`,
/// `rd_kafka_error_txn_requires_abort`) are copied into plain Booleans.
///
/// ```swift
/// do { try producer.send(message) }
/// catch let error where error.code == .queueFull { /* poll delivery reports, then retry */ }
/// ```
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// What failed: librdkafka's `rd_kafka_resp_err_t` value and its name.
    public var code: Code
    /// What failed and what to do about it.
    public var message: String
    /// Whether the same operation may succeed if retried (`rd_kafka_error_is_retriable`).
    public var isRetriable: Bool
    /// Whether the client handle is unusable and must be recreated (`rd_kafka_error_is_fatal`).
    public var isFatal: Bool
    /// Whether the current transaction must be aborted (`rd_kafka_error_txn_requires_abort`).
    public var isTransactionAbortRequired: Bool
    /// The topic the error concerns, when known.
    public var topic: String?
    /// The partition the error concerns, when known.
    public var partition: Int32?

    /// Creates an error.
    public init(
        code: Code,
        message: String,
        isRetriable: Bool = false,
        isFatal: Bool = false,
        isTransactionAbortRequired: Bool = false,
        topic: String? = nil,
        partition: Int32? = nil
    ) {
        self.code = code
        self.message = message
        self.isRetriable = isRetriable
        self.isFatal = isFatal
        self.isTransactionAbortRequired = isTransactionAbortRequired
        self.topic = topic
        self.partition = partition
    }

    /// `KafkaError <NAME> [topic/partition]: message`.
    public var description: String {
        var location = ""
        if let topic {
            location = " [\(topic)" + (partition.map { "/\($0)" } ?? "") + "]"
        }
        return "KafkaError \(code.name)\(location): \(message)"
    }
}

extension KafkaError {
    /// A librdkafka error code (`rd_kafka_resp_err_t`): its number and its name.
    ///
    /// Codes compare by number. Negative numbers are librdkafka's local errors (names start with `_`),
    /// positive numbers are Kafka protocol errors.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The `rd_kafka_resp_err_t` value.
        public let rawValue: Int32

        /// Creates a code from its `rd_kafka_resp_err_t` value.
        public init(rawValue: Int32) {
            self.rawValue = rawValue
        }

        init(_ err: rd_kafka_resp_err_t) {
            self.rawValue = err.rawValue
        }

        var native: rd_kafka_resp_err_t { rd_kafka_resp_err_t(rawValue: rawValue) }

        /// librdkafka's name for the code (`rd_kafka_err2name`), e.g. `UNKNOWN_TOPIC_OR_PART`.
        public var name: String { String(cString: rd_kafka_err2name(native)) }

        /// librdkafka's one-line explanation of the code (`rd_kafka_err2str`).
        public var explanation: String { String(cString: rd_kafka_err2str(native)) }

        /// The code's name.
        public var description: String { name }

        /// Codes are equal when their numbers are.
        public static func == (lhs: Code, rhs: Code) -> Bool { lhs.rawValue == rhs.rawValue }
        /// Hashes the number.
        public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

        /// `NO_ERROR`.
        public static let noError = Code(RD_KAFKA_RESP_ERR_NO_ERROR)
        /// `_INVALID_ARG`: a bad argument or configuration property.
        public static let invalidArgument = Code(RD_KAFKA_RESP_ERR__INVALID_ARG)
        /// `UNKNOWN_TOPIC_OR_PART`: the broker does not know the topic or partition.
        public static let unknownTopic = Code(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        /// `_UNKNOWN_TOPIC`: the topic is not in the client's metadata.
        public static let localUnknownTopic = Code(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
        /// `_UNKNOWN_PARTITION`: the partition does not exist in the topic.
        public static let unknownPartition = Code(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
        /// `_PARTITION_EOF`: the consumer reached the end of a partition.
        public static let partitionEOF = Code(RD_KAFKA_RESP_ERR__PARTITION_EOF)
        /// `_TIMED_OUT`: the operation did not finish within its timeout.
        public static let timedOut = Code(RD_KAFKA_RESP_ERR__TIMED_OUT)
        /// `_MSG_TIMED_OUT`: a produced message was not delivered within `message.timeout.ms`.
        public static let messageTimedOut = Code(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
        /// `_QUEUE_FULL`: the producer queue is full; poll delivery reports and retry.
        public static let queueFull = Code(RD_KAFKA_RESP_ERR__QUEUE_FULL)
        /// `_TRANSPORT`: a broker connection failed.
        public static let transport = Code(RD_KAFKA_RESP_ERR__TRANSPORT)
        /// `_ALL_BROKERS_DOWN`: no broker is reachable.
        public static let allBrokersDown = Code(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        /// `_FATAL`: the client hit a fatal error (`rd_kafka_fatal_error` has the cause).
        public static let fatal = Code(RD_KAFKA_RESP_ERR__FATAL)
        /// `_STATE`: the operation is not valid in the client's current state.
        public static let state = Code(RD_KAFKA_RESP_ERR__STATE)
        /// `_NOT_IMPLEMENTED`: librdkafka or the broker does not implement the operation.
        public static let notImplemented = Code(RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED)
        /// `_UNSUPPORTED_FEATURE`: the broker does not support the operation.
        public static let unsupportedFeature = Code(RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE)
        /// `_ASSIGNMENT_LOST`: the consumer lost its partitions (e.g. a session timeout).
        public static let assignmentLost = Code(RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST)
        /// `_NO_OFFSET`: there is no offset to use.
        public static let noOffset = Code(RD_KAFKA_RESP_ERR__NO_OFFSET)
        /// `OFFSET_OUT_OF_RANGE`: the requested offset is not on the broker.
        public static let offsetOutOfRange = Code(RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)
        /// `NOT_LEADER_OR_FOLLOWER`: the broker is not the partition's leader.
        public static let notLeaderForPartition = Code(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION)
        /// `LEADER_NOT_AVAILABLE`: the partition has no leader right now.
        public static let leaderNotAvailable = Code(RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
        /// `REQUEST_TIMED_OUT`: the broker timed out the request.
        public static let requestTimedOut = Code(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT)
        /// `NOT_COORDINATOR`: the broker is not the group or transaction coordinator.
        public static let notCoordinator = Code(RD_KAFKA_RESP_ERR_NOT_COORDINATOR)
        /// `COORDINATOR_NOT_AVAILABLE`: the coordinator is not available.
        public static let coordinatorNotAvailable = Code(RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE)
        /// `NOT_ENOUGH_REPLICAS`: too few in-sync replicas to accept the write.
        public static let notEnoughReplicas = Code(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS)
        /// `TOPIC_ALREADY_EXISTS`: a topic with that name exists.
        public static let topicAlreadyExists = Code(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        /// `NOT_CONTROLLER`: the request needs the cluster's controller, and none is known.
        public static let notController = Code(RD_KAFKA_RESP_ERR_NOT_CONTROLLER)
        /// `OUT_OF_ORDER_SEQUENCE_NUMBER`: the idempotent producer saw a sequence gap.
        public static let outOfOrderSequenceNumber = Code(RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER)
        /// `_PURGE_QUEUE`: the message was purged (e.g. a transaction abort).
        public static let purgeQueue = Code(RD_KAFKA_RESP_ERR__PURGE_QUEUE)
        /// `_DESTROY`: the client is being destroyed.
        public static let destroy = Code(RD_KAFKA_RESP_ERR__DESTROY)
        /// `TOPIC_AUTHORIZATION_FAILED`: the principal may not use the topic.
        public static let topicAuthorizationFailed = Code(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
        /// `GROUP_AUTHORIZATION_FAILED`: the principal may not use the consumer group.
        public static let groupAuthorizationFailed = Code(RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED)
        /// `CLUSTER_AUTHORIZATION_FAILED`: the principal may not perform the cluster action.
        public static let clusterAuthorizationFailed = Code(RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED)

        /// Whether the broker refused the principal: retrying cannot help until access is granted.
        public var isAuthorizationFailure: Bool {
            self == .topicAuthorizationFailed || self == .groupAuthorizationFailed || self == .clusterAuthorizationFailed
        }
    }
}
