internal import CRdKafka
internal import Foundation

/// Receives librdkafka's rebalance and commit callbacks (fired on the polling thread) and forwards
/// them to the Swift handler.
final class NativeRebalanceCoordinator {
    // Only touched on the polling thread, inside rd_kafka_consumer_poll / consume_batch_queue / close.
    var handler: (any KafkaRebalanceHandler)?
    unowned(unsafe) var consumer: KafkaConsumer?
    private var events: [KafkaConsumerEvent] = []
    /// Whether the configured assignors make the protocol COOPERATIVE (all of them cooperative),
    /// for the callbacks in which librdkafka cannot tell: `rd_kafka_rebalance_protocol` returns
    /// NULL while the consumer closes.
    private let isConfiguredCooperative: Bool
    /// ``KafkaConsumerConfiguration/statisticsHandler``.
    let statistics: (@Sendable (String) -> Void)?

    init(handler: (any KafkaRebalanceHandler)?, assignmentStrategy: String, statistics: (@Sendable (String) -> Void)? = nil) {
        self.handler = handler
        self.statistics = statistics
        let assignors = assignmentStrategy.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        isConfiguredCooperative = !assignors.isEmpty && assignors.allSatisfy { $0 == "cooperative-sticky" }
    }

    func takeEvents() -> [KafkaConsumerEvent] {
        guard !events.isEmpty else { return [] }
        defer { events = [] }
        return events
    }

    func rebalance(_ client: OpaquePointer, _ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let protocolName: UnsafePointer<CChar>? = rd_kafka_rebalance_protocol(client)
        let isCooperative = protocolName.map { String(cString: $0) == "COOPERATIVE" } ?? isConfiguredCooperative
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            if let handler, let consumer {
                let partitions = NativePartitionList.partitions(of: list)
                let offsets = handler.consumer(consumer, didAssign: partitions)
                if !offsets.isEmpty {
                    let elements = UnsafeMutableBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt))
                    for index in elements.indices {
                        if let offset = offsets[partitions[index]] { elements[index].offset = offset.rawValue }
                    }
                }
            }
            if isCooperative {
                record(rd_kafka_incremental_assign(client, list), while: "assigning partitions (incremental)")
            } else {
                record(rd_kafka_assign(client, list), while: "assigning partitions")
            }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            if let handler, let consumer {
                handler.consumer(consumer, willRevoke: NativePartitionList.partitions(of: list), isLost: rd_kafka_assignment_lost(client) != 0)
            }
            if isCooperative {
                record(rd_kafka_incremental_unassign(client, list), while: "revoking partitions (incremental)")
            } else {
                record(rd_kafka_assign(client, nil), while: "revoking partitions")
            }
        default:
            // rdkafka.h: on any other rebalance error, unassign and let the group recover.
            events.append(KafkaConsumerEvent(topicPartition: nil, kind: .error(KafkaError(err, while: "rebalancing"))))
            if isCooperative {
                record(rd_kafka_incremental_unassign(client, list), while: "revoking partitions after a rebalance error")
            } else {
                record(rd_kafka_assign(client, nil), while: "revoking partitions after a rebalance error")
            }
        }
    }

    func committed(_ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR, err != RD_KAFKA_RESP_ERR__NO_OFFSET else { return }
        if let list {
            let elements = UnsafeMutableBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt))
            for element in elements where element.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let topic = String(cString: element.topic)
                events.append(KafkaConsumerEvent(
                    topicPartition: KafkaTopicPartition(topic: topic, partition: element.partition),
                    kind: .commitFailed(KafkaError(element.err, while: "committing offset \(element.offset)", topic: topic, partition: element.partition))
                ))
            }
        }
        if events.isEmpty || !events.contains(where: { if case .commitFailed = $0.kind { true } else { false } }) {
            events.append(KafkaConsumerEvent(topicPartition: nil, kind: .commitFailed(KafkaError(err, while: "committing offsets"))))
        }
    }

    private func record(_ err: rd_kafka_resp_err_t, while operation: String) {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            events.append(KafkaConsumerEvent(topicPartition: nil, kind: .error(KafkaError(err, while: operation))))
        }
    }

    private func record(_ error: OpaquePointer?, while operation: String) {
        if let error {
            events.append(KafkaConsumerEvent(topicPartition: nil, kind: .error(KafkaError(consuming: error, while: operation))))
        }
    }
}

func nativeRebalanceCallback(
    _ client: OpaquePointer?,
    _ err: rd_kafka_resp_err_t,
    _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let client, let partitions, let opaque else { return }
    Unmanaged<NativeRebalanceCoordinator>.fromOpaque(opaque).takeUnretainedValue().rebalance(client, err, partitions)
}

func nativeOffsetCommitCallback(
    _ client: OpaquePointer?,
    _ err: rd_kafka_resp_err_t,
    _ offsets: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let opaque else { return }
    Unmanaged<NativeRebalanceCoordinator>.fromOpaque(opaque).takeUnretainedValue().committed(err, offsets)
}

/// librdkafka's statistics callback; returns 0 so librdkafka frees the JSON itself.
func nativeStatisticsCallback(
    _ client: OpaquePointer?,
    _ json: UnsafeMutablePointer<CChar>?,
    _ length: Int,
    _ opaque: UnsafeMutableRawPointer?
) -> Int32 {
    guard let json, let opaque else { return 0 }
    let text = String(decoding: UnsafeRawBufferPointer(start: json, count: length), as: UTF8.self)
    Unmanaged<NativeRebalanceCoordinator>.fromOpaque(opaque).takeUnretainedValue().statistics?(text)
    return 0
}
