import KafkaClient
import Logging

/// Sends librdkafka's own log lines through swift-log (label `librdkafka`, with its facility and
/// client name as metadata), so they share the command's format and level instead of appearing
/// as raw `%4|…|CONFWARN|…` lines on stderr.
func routeLibrdkafkaLogs() {
    let logger = Logger(label: "librdkafka")
    KafkaLog.route { record in
        let level: Logger.Level = switch record.severity {
        case ...2: .critical
        case 3: .error
        case 4: .warning
        case 5: .notice
        case 6: .info
        default: .debug
        }
        logger.log(level: level, "\(record.message)", metadata: ["facility": .string(record.facility), "client": .string(record.client)])
    }
}
