internal import Foundation

/// Minimal stderr logging with the `projector.<module>` label; off the hot path only.
enum Log {
    /// Writes a warning line to stderr.
    static func warning(_ message: String) {
        FileHandle.standardError.write(Data("projector.runtime warning: \(message)\n".utf8))
    }
}
