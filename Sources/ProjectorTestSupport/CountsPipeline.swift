/// The small pipeline many CLI and worker tests share: `Add` events keyed by `$.data.id` change
/// the row `counts(id, n)`; by default `n` grows by `$.data.by`, so a huge `by` makes an event
/// fail with an integer overflow on demand.
public enum CountsPipeline {
    /// The YAML text.
    /// - Parameters:
    ///   - name: the pipeline name.
    ///   - topic: its one source topic.
    ///   - settings: top-level lines added after `source` (e.g. `on_error: dead-letter`).
    ///   - set: the expression that sets `n`.
    public static func yaml(name: String = "counts", topic: String = "counts", settings: [String] = [], set: String = "n + $.data.by") -> String {
        """
        name: \(name)
        version: 1
        source: {topics: [\(topic)], type: $.eventType, key: $.data.id}
        \(settings.joined(separator: "\n"))
        views:
          counts: {key: [id], columns: {id: text, n: integer}}
        on:
          Add:
            - upsert: counts
              key: {id: $key}
              set: {n: \(set)}

        """
    }
}
