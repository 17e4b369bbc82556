internal import CRdKafka

/// Runs one admin request on a private queue and throws the first per-topic error.
func runNativeAdminRequest(
    _ handle: OpaquePointer,
    _ kind: rd_kafka_admin_op_t,
    timeout: Duration,
    operation: String,
    start: (OpaquePointer, OpaquePointer) -> Void,
    results: (OpaquePointer) -> [OpaquePointer]
) throws(KafkaError) {
    var errorText = [CChar](repeating: 0, count: 512)
    let options = rd_kafka_AdminOptions_new(handle, kind)!
    defer { rd_kafka_AdminOptions_destroy(options) }
    _ = rd_kafka_AdminOptions_set_request_timeout(options, milliseconds(timeout), &errorText, errorText.count)
    _ = rd_kafka_AdminOptions_set_operation_timeout(options, milliseconds(timeout), &errorText, errorText.count)
    let queue = rd_kafka_queue_new(handle)!
    defer { rd_kafka_queue_destroy(queue) }
    start(options, queue)
    // The request itself times out after `timeout`; wait a little longer for its result event.
    guard let event = rd_kafka_queue_poll(queue, milliseconds(timeout + .seconds(1))) else {
        throw KafkaError(code: .timedOut, message: "\(operation) timed out after \(timeout). Check that the brokers are up.", isRetriable: true)
    }
    defer { rd_kafka_event_destroy(event) }
    let err = rd_kafka_event_error(event)
    if err != RD_KAFKA_RESP_ERR_NO_ERROR {
        var detail = String(cString: rd_kafka_event_error_string(event))
        if detail.contains("controller") {
            detail += ". The cluster advertises no controller (librdkafka's mock cluster does not); "
                + "with MockCluster, use MockCluster.createTopic"
        }
        throw KafkaError(code: KafkaError.Code(err), message: "\(operation) failed: \(detail)",
                         isRetriable: KafkaError.isRetriableByDefault(KafkaError.Code(err)))
    }
    for result in results(event) {
        let topicErr = rd_kafka_topic_result_error(result)
        if topicErr != RD_KAFKA_RESP_ERR_NO_ERROR {
            let name = String(cString: rd_kafka_topic_result_name(result))
            let detail = rd_kafka_topic_result_error_string(result).map { String(cString: $0) } ?? KafkaError.Code(topicErr).explanation
            throw KafkaError(code: KafkaError.Code(topicErr), message: "\(operation) failed for \(name): \(detail)",
                             isRetriable: KafkaError.isRetriableByDefault(KafkaError.Code(topicErr)), topic: name)
        }
    }
}
