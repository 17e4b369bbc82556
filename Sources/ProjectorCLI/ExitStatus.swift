import ArgumentParser
import Projector

/// The process exit codes, decided here and nowhere else (the library's errors carry a kind, not
/// an exit code). One rule: 2 when the request cannot run as given and retrying it unchanged
/// cannot help — bad usage, an invalid pipeline, or stored state that refuses it (views built or
/// swapped in by another definition); 1 when something outside the request failed or a check
/// found a difference (broker, database, fencing, `verify` different, `test` mismatch); 3 an event
/// error under `on_error: fail` (everything before it is committed); 0 otherwise.
enum ExitStatus {
    /// The command line, a pipeline file or the stored state does not allow the request.
    static let usage: Int32 = 2
    /// The broker or the store failed.
    static let runtime: Int32 = 1
    /// An event failed under `on_error: fail`.
    static let eventFailed: Int32 = 3

    /// The exit code for a runtime failure.
    static func code(for error: ProjectorError) -> Int32 {
        switch error.code {
        case .usage, .definitionChanged, .superseded: usage
        case .eventFailed: eventFailed
        default: runtime
        }
    }
}

/// Writes a one-line error to stderr and returns the exit code for it.
func failure(_ error: ProjectorError) -> ExitCode {
    printError("error: \(error.message)")
    return ExitCode(ExitStatus.code(for: error))
}
