internal import CRdKafka

/// Builds an `rd_kafka_conf_t` for a client of `type` from key/value pairs, applying them in order
/// (later pairs win) and leaving out the properties of the other kind of client
/// (``NativePropertyScopes``); routes librdkafka's log lines to ``KafkaLog`` when it has a handler.
///
/// The returned pointer is owned by the caller until `rd_kafka_new` succeeds, which takes it over
/// (rdkafka.h: "The \p conf object is freed by this function on success").
func makeNativeConfiguration(
    _ properties: [(key: String, value: String)], for type: rd_kafka_type_t
) throws(KafkaError) -> OpaquePointer {
    let conf = rd_kafka_conf_new()!
    if KafkaLog.isRouted { rd_kafka_conf_set_log_cb(conf, nativeLogCallback) }
    for (key, value) in NativePropertyScopes.keeping(properties, for: type) {
        var errorText = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, key, value, &errorText, errorText.count)
        if result != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            let reason = string(fromErrorBuffer: errorText)
            let kind = result == RD_KAFKA_CONF_UNKNOWN ? "is not a librdkafka property" : "has an invalid value"
            throw KafkaError(
                code: .invalidArgument,
                message: "configuration property '\(key)' \(kind) ('\(value)'): \(reason). "
                    + "Check the name and value against librdkafka's CONFIGURATION.md."
            )
        }
    }
    return conf
}

/// Creates a client handle of `type`, taking over `conf` on success and destroying it on failure.
func makeNativeHandle(_ type: rd_kafka_type_t, _ conf: OpaquePointer) throws(KafkaError) -> OpaquePointer {
    var errorText = [CChar](repeating: 0, count: 512)
    guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
        rd_kafka_conf_destroy(conf)
        let reason = string(fromErrorBuffer: errorText)
        throw KafkaError(
            code: .invalidArgument,
            message: "creating the librdkafka client failed: \(reason). Check the configuration."
        )
    }
    return handle
}

/// Milliseconds for a C timeout argument, clamped to `Int32`.
func milliseconds(_ duration: Duration) -> Int32 {
    let (seconds, attoseconds) = duration.components
    let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
    return Int32(clamping: max(0, ms))
}

/// Renders a `Duration` as a librdkafka milliseconds property value.
func millisecondsProperty(_ duration: Duration) -> String {
    String(milliseconds(duration))
}

/// The text in a NUL-terminated C error buffer.
func string(fromErrorBuffer buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
