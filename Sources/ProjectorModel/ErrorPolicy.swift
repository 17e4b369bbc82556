/// What a pipeline does with an event that fails (malformed JSON, a null key, a type mismatch...).
public enum ErrorPolicy: String, Sendable, Hashable, CaseIterable {
    /// Stop at the failing message; the runtime reports topic/partition/offset and the reason.
    case fail
    /// Count and log the failure, and go on.
    case skip
    /// Keep the raw message and the reason in the dead-letter table, and go on.
    case deadLetter = "dead-letter"
}

/// What a pipeline does with an event type that has no handler (and no `"*"` handler).
public enum UnknownTypePolicy: String, Sendable, Hashable, CaseIterable {
    /// Ignore the event and count it (the default).
    case ignore
    /// Treat the event as failed, under `on_error`.
    case error
}
