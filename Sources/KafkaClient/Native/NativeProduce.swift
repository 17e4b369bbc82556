internal import CRdKafka

/// Enqueues one message with `rd_kafka_produceva` (Swift cannot call the variadic `rd_kafka_producev`
/// macro). Buffers are copied (`RD_KAFKA_MSG_F_COPY`), so they only need to live for the call.
///
/// Returns the error, if any, and the header list that was built: on failure the caller still owns
/// it and must destroy it (rdkafka.h, `RD_KAFKA_V_HEADERS`); on success librdkafka took it over.
func nativeProduce(
    _ handle: OpaquePointer,
    topic: String,
    partition: Int32?,
    key: UnsafeRawBufferPointer?,
    value: UnsafeRawBufferPointer?,
    headers: [KafkaHeader],
    timestampMilliseconds: Int64?,
    id: UInt
) -> (error: OpaquePointer?, headers: OpaquePointer?) {
    var nativeHeaders: OpaquePointer?
    if !headers.isEmpty {
        let list = rd_kafka_headers_new(headers.count)!
        for header in headers {
            if let bytes = header.value {
                bytes.withUnsafeBytes { _ = rd_kafka_header_add(list, header.name, -1, $0.baseAddress, $0.count) }
            } else {
                _ = rd_kafka_header_add(list, header.name, -1, nil, 0)
            }
        }
        nativeHeaders = list
    }
    let error: OpaquePointer? = topic.withCString { topicName in
        withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 8) { vus in
            var count = 0
            func append(_ type: rd_kafka_vtype_t, _ fill: (inout rd_kafka_vu_t) -> Void) {
                var vu = rd_kafka_vu_t()
                vu.vtype = type
                fill(&vu)
                vus[count] = vu
                count += 1
            }
            append(RD_KAFKA_VTYPE_TOPIC) { $0.u.cstr = topicName }
            append(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
            append(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = UnsafeMutableRawPointer(bitPattern: id) }
            if let partition { append(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = partition } }
            if let key {
                append(RD_KAFKA_VTYPE_KEY) {
                    $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                    $0.u.mem.size = key.count
                }
            }
            if let value {
                // A zero-length buffer may have no base address; librdkafka needs a non-NULL
                // pointer to tell an empty value from a tombstone (NULL).
                append(RD_KAFKA_VTYPE_VALUE) {
                    $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress ?? UnsafeRawPointer(topicName))
                    $0.u.mem.size = value.count
                }
            }
            if let timestampMilliseconds { append(RD_KAFKA_VTYPE_TIMESTAMP) { $0.u.i64 = timestampMilliseconds } }
            if let nativeHeaders { append(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = nativeHeaders } }
            return rd_kafka_produceva(handle, vus.baseAddress, count)
        }
    }
    return (error, nativeHeaders)
}
