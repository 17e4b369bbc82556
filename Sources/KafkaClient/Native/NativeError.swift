internal import CRdKafka

extension KafkaError {
    /// Builds an error from a `rd_kafka_resp_err_t`, with librdkafka's explanation and `advice`.
    init(_ err: rd_kafka_resp_err_t, while operation: String, advice: String? = nil, topic: String? = nil, partition: Int32? = nil) {
        let code = Code(err)
        var text = "\(operation) failed: \(code.explanation)"
        if let advice { text += ". \(advice)" }
        self.init(
            code: code,
            message: text,
            isRetriable: KafkaError.isRetriableByDefault(code),
            isFatal: err == RD_KAFKA_RESP_ERR__FATAL,
            topic: topic,
            partition: partition
        )
    }

    /// Builds an error from an `rd_kafka_error_t *` and destroys it (the caller owns it, per rdkafka.h).
    init(consuming error: OpaquePointer, while operation: String, advice: String? = nil) {
        defer { rd_kafka_error_destroy(error) }
        let code = Code(rd_kafka_error_code(error))
        var text = "\(operation) failed: \(String(cString: rd_kafka_error_string(error)))"
        if let advice { text += ". \(advice)" }
        self.init(
            code: code,
            message: text,
            isRetriable: rd_kafka_error_is_retriable(error) != 0,
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            isTransactionAbortRequired: rd_kafka_error_txn_requires_abort(error) != 0
        )
    }

    /// Throws if `err` is not `NO_ERROR`.
    static func check(_ err: rd_kafka_resp_err_t, while operation: String, advice: String? = nil) throws(KafkaError) {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, while: operation, advice: advice)
        }
    }

    /// Throws if `error` is non-nil, destroying it.
    static func check(_ error: OpaquePointer?, while operation: String, advice: String? = nil) throws(KafkaError) {
        if let error {
            throw KafkaError(consuming: error, while: operation, advice: advice)
        }
    }

    /// Local errors librdkafka recovers from by itself or that succeed when retried.
    static func isRetriableByDefault(_ code: Code) -> Bool {
        switch code {
        case .timedOut, .queueFull, .transport, .allBrokersDown, .leaderNotAvailable, .notLeaderForPartition,
             .requestTimedOut, .notCoordinator, .coordinatorNotAvailable, .notEnoughReplicas:
            return true
        default:
            return false
        }
    }
}
