internal import CRdKafka
internal import Synchronization

/// One log line of librdkafka itself (not of Projector), as its log callback delivers it.
public struct KafkaLogRecord: Sendable {
    /// The syslog severity librdkafka gave: 0–2 critical, 3 error, 4 warning, 5 notice, 6 info, 7 debug.
    public var severity: Int32
    /// librdkafka's facility, such as `CONFWARN`, `FAIL` or `REQTMOUT`.
    public var facility: String
    /// The text.
    public var message: String
    /// The client's name, such as `projector.orders#consumer-1`.
    public var client: String
}

/// Where librdkafka's own log lines go.
///
/// By default librdkafka prints them to stderr as `%4|1700000000.123|CONFWARN|…` lines that
/// bypass the application's logger and its format. Route them once, before creating clients,
/// and every client created afterwards hands its lines to the handler instead.
public enum KafkaLog {
    private static let handler = Mutex<(@Sendable (KafkaLogRecord) -> Void)?>(nil)

    /// Sends the log lines of every client created from now on to `handler`.
    ///
    /// - Important: librdkafka calls it on its own threads; it must be thread-safe and quick.
    public static func route(to handler: @escaping @Sendable (KafkaLogRecord) -> Void) {
        self.handler.withLock { $0 = handler }
    }

    static var isRouted: Bool { handler.withLock { $0 != nil } }

    static func deliver(_ record: KafkaLogRecord) {
        handler.withLock { $0 }?(record)
    }
}

/// librdkafka's log callback: forwards to ``KafkaLog``.
let nativeLogCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    client, level, facility, text in
    let name = client.flatMap { rd_kafka_name($0) }.map { String(cString: $0) } ?? ""
    KafkaLog.deliver(KafkaLogRecord(
        severity: level, facility: facility.map { String(cString: $0) } ?? "", message: text.map { String(cString: $0) } ?? "",
        client: name))
}
