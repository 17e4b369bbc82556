import Foundation
import Logging

/// The `projector` executable's log output: one line per record on stderr,
/// `<label> <level>: <message>` followed by the metadata as `key=value`, so stdout stays free for
/// the command's own output (tables, JSON). The library never prints; it logs through swift-log,
/// and this handler, bootstrapped once in `main`, decides where lines go.
struct LineLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes the record; its source and call site are not printed.
    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        var text = "\(label) \(event.level): \(event.message)"
        if !all.isEmpty {
            text += " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
