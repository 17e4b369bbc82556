internal import Projector
internal import Foundation
internal import Synchronization

/// Shows the progress of long work (the demo, rebuilds, benchmarks) on stderr: a line rewritten in
/// place on a terminal, one line every ~10 s without one, and nothing with `CI=true`.
public final class ProgressLine: Sendable {
    /// How progress is shown.
    public enum Mode: Sendable {
        /// Rewrite one line in place, at most 10 times a second.
        case terminal
        /// Print a line at most every `interval`.
        case periodic(Duration)
        /// Print nothing.
        case quiet
    }

    private struct State {
        var last: ContinuousClock.Instant?
        var wroteInPlace = false
    }

    /// The mode in use.
    public let mode: Mode
    private let state = Mutex(State())

    /// Creates a progress line; `nil` picks the mode from the environment (`CI`, and whether stderr is a TTY).
    public init(mode: Mode? = nil) {
        self.mode = mode ?? Self.environmentMode()
    }

    /// The mode for this process: quiet with `CI=true`, in place on a terminal, else `withoutTerminal`
    /// (a line every 10 s unless told otherwise).
    public static func environmentMode(withoutTerminal: Mode = .periodic(.seconds(10))) -> Mode {
        if ProcessInfo.processInfo.environment["CI"] == "true" { return .quiet }
        return isatty(STDERR_FILENO) == 1 ? .terminal : withoutTerminal
    }

    /// Shows `text` if enough time passed since the last update (always when `force`).
    public func update(_ text: @autoclosure () -> String, force: Bool = false) {
        let interval: Duration
        switch mode {
        case .quiet: return
        case .terminal: interval = .milliseconds(100)
        case .periodic(let every): interval = every
        }
        let now = ContinuousClock.now
        let line: String? = state.withLock { state in
            if !force, let last = state.last, now - last < interval { return nil }
            state.last = now
            if case .terminal = mode {
                state.wroteInPlace = true
                return "\r\u{1B}[2K" + text()
            }
            return text() + "\n"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    /// Ends an in-place line so that later output starts on a fresh line.
    public func finish() {
        let needsNewline = state.withLock { state in
            defer { state.wroteInPlace = false }
            return state.wroteInPlace
        }
        if needsNewline { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
