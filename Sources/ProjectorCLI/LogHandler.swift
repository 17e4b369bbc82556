import Foundation
import Logging

/// The `projector` executable's log output: one line per record on stderr, so stdout stays free for
/// the command's own output (tables, JSON). The library never prints; it logs through swift-log, and
/// this handler, bootstrapped once in `main`, decides where and how lines go.
///
/// - `text`: `<label> <level>: <message>` followed by the metadata as `key=value`;
/// - `json` (`--log-format json`): one object with `time`, `level`, `label`, `message` and every
///   metadata key (pipeline, topic, partition where they apply) as a field.
struct LineLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var format: LoggingOptions.Format = .text

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes the record; its source and call site are not printed.
    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let line: Data?
        switch format {
        case .text: line = text(event, all)
        case .json: line = json(event, all)
        }
        guard var line else { return }
        line.append(0x0A)
        FileHandle.standardError.write(line)
    }

    private func text(_ event: LogEvent, _ metadata: Logger.Metadata) -> Data {
        var text = "\(label) \(event.level): \(event.message)"
        if !metadata.isEmpty {
            text += " " + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        return Data(text.utf8)
    }

    private func json(_ event: LogEvent, _ metadata: Logger.Metadata) -> Data? {
        var object = metadata.mapValues(Self.json)
        object["time"] = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date())
        object["level"] = event.level.rawValue
        object["label"] = label
        object["message"] = event.message.description
        return try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): Int64(convertible.description).map { $0 as Any } ?? convertible.description
        case .array(let values): values.map(json)
        case .dictionary(let values): values.mapValues(json)
        }
    }
}
