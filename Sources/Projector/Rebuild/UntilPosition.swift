internal import Foundation
internal import Views
public import ProjectorModel

/// Where a time-travel rebuild (`--until`) stops: at explicit positions, or at a moment.
///
/// ```swift
/// let cut = try UntilPosition(parsing: "orders:0:1200,orders:1:1187")
/// let moment = try UntilPosition(parsing: "2026-11-01T00:00:00Z")
/// ```
public enum UntilPosition: Sendable, Hashable {
    /// Events before these offsets, like checkpoints (each is the next offset NOT applied).
    /// Every source partition must be listed.
    case offsets([Checkpoint])
    /// Events whose Kafka timestamp is at or before this time, in milliseconds since the Unix
    /// epoch: per partition, the rebuild stops at the first message past it.
    case time(milliseconds: Int64)

    /// Parses `topic:partition:offset[,topic:partition:offset...]` or an ISO-8601 time such as
    /// `2026-11-01T00:00:00Z` (fractional seconds and `+hh:mm` offsets allowed).
    /// - Throws: ``ProjectorError`` `.usage` saying what was expected.
    public init(parsing text: String) throws(ProjectorError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let milliseconds = Self.milliseconds(iso8601: trimmed) {
            self = .time(milliseconds: milliseconds)
            return
        }
        var checkpoints: [Checkpoint] = []
        for entry in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = entry.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count >= 3, let offset = Int64(parts[parts.count - 1]), offset >= 0,
                  let partition = Int32(parts[parts.count - 2]), partition >= 0
            else {
                throw ProjectorError(
                    code: .usage,
                    message: "--until expects an ISO-8601 time such as 2026-11-01T00:00:00Z or topic:partition:offset[,...] "
                        + "such as orders:0:1200,orders:1:1187; got '\(entry)'")
            }
            let topic = parts[0 ..< parts.count - 2].joined(separator: ":")
            guard !topic.isEmpty else {
                throw ProjectorError(code: .usage, message: "--until: '\(entry)' names no topic; write topic:partition:offset")
            }
            if checkpoints.contains(where: { $0.topic == topic && $0.partition == partition }) {
                throw ProjectorError(code: .usage, message: "--until names \(topic):\(partition) twice")
            }
            checkpoints.append(Checkpoint(topic: topic, partition: partition, nextOffset: offset))
        }
        self = .offsets(checkpoints)
    }

    /// Milliseconds since the epoch of an ISO-8601 date-time, or nil when `text` is not one.
    static func milliseconds(iso8601 text: String) -> Int64? {
        guard text.count >= 20, text.contains("T") else { return nil }
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = plain.date(from: text) ?? fractional.date(from: text) else { return nil }
        return Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }
}
