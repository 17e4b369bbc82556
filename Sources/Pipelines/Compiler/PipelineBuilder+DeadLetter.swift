import Yams
import ProjectorModel

extension PipelineBuilder {
    /// Validates `dead_letter:` (`park_key: true|false`, `topic: NAME`), reporting each problem at its node.
    /// - Parameters:
    ///   - node: the value of `dead_letter`.
    ///   - onError: the pipeline's `on_error`; `dead_letter` needs `dead-letter`.
    ///   - onErrorNode: where `on_error` is, when given.
    ///   - topics: the source topics, which the dead-letter topic must not be.
    mutating func buildDeadLetter(_ node: Node, onError: ErrorPolicy, onErrorNode: Node?, topics: [String]) -> DeadLetterSettings {
        var settings = DeadLetterSettings()
        guard let pairs = mapping(node, what: "`dead_letter`", allowed: ["park_key", "topic"]) else { return settings }
        if onError != .deadLetter {
            let given = onErrorNode == nil ? "on_error is not given (default fail)" : "on_error is \(onError.rawValue)"
            report(.invalidValue, "`dead_letter` applies only to `on_error: dead-letter`, but \(given); "
                + "set `on_error: dead-letter` or remove `dead_letter`", at: node)
        }
        for entry in pairs {
            switch entry.key {
            case "park_key":
                guard let text = scalar(entry.value, what: "`dead_letter.park_key`") else { continue }
                switch text {
                case "true": settings.parksKey = true
                case "false": settings.parksKey = false
                default: report(.invalidValue, "`dead_letter.park_key` must be true or false, not `\(text)`", at: entry.value)
                }
            default:
                guard let topic = scalar(entry.value, what: "`dead_letter.topic`") else { continue }
                if !DeadLetterSettings.isValidTopicName(topic) {
                    report(.invalidName, "`dead_letter.topic` `\(topic)` is not a valid Kafka topic name "
                        + "([A-Za-z0-9._-], 1 to 249 characters, not `.` or `..`)", at: entry.value)
                } else if topics.contains(topic) {
                    report(.invalidValue, "`dead_letter.topic` `\(topic)` is a source topic of this pipeline; "
                        + "dead letters need a topic of their own (for example `\(topic).dlq`)", at: entry.value)
                } else {
                    settings.topic = topic
                }
            }
        }
        return settings
    }
}
