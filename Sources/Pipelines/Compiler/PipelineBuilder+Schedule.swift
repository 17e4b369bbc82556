import ProjectorModel
import Yams

/// `schedule:` and `cancel_schedule:`: durable timers that deliver an event of the pipeline's own
/// types, by stream time (pipelines/README.md, "Timers").
extension PipelineBuilder {
    /// An event type a timer operation names, checked once every handler is known.
    struct ScheduledEvent {
        var event: String
        var node: Node
        /// The top-level members of `data:`, which must not hide the event type's path.
        var dataMembers: [(name: String, node: Node)]
    }

    /// The keys a `schedule:` mapping takes; `cancel_schedule:` takes `event` and `key`.
    static let scheduleKeys = ["after", "event", "key", "data"]

    /// Whether an operation node is a `schedule:` or `cancel_schedule:`.
    static func isSchedule(_ node: Node) -> Bool {
        guard case .mapping(let mapping) = node else { return false }
        return mapping.keys.contains { $0.string == "schedule" || $0.string == "cancel_schedule" }
    }

    /// Builds `- schedule: {after, event, key, data}` or `- cancel_schedule: {event, key}`, with an optional `when:`.
    mutating func buildSchedule(_ node: Node, views: [ViewDefinition], tombstone: Bool) -> OperationSpec? {
        guard let pairs = mapping(node, what: "a timer operation", allowed: ["schedule", "cancel_schedule", "when"]) else { return nil }
        let kinds = pairs.filter { $0.key == "schedule" || $0.key == "cancel_schedule" }
        guard kinds.count == 1 else {
            report(.invalidValue, "an operation has exactly one of `schedule` or `cancel_schedule`", at: kinds[1].keyNode)
            return nil
        }
        let cancels = kinds[0].key == "cancel_schedule"
        let name = kinds[0].key
        let specNode = kinds[0].value
        guard let fields = mapping(specNode, what: "`\(name)`", allowed: cancels ? ["event", "key"] : Self.scheduleKeys) else { return nil }
        func field(_ key: String) -> Node? { fields.first { $0.key == key }?.value }
        var failed = false
        let reads = ReadPermissions(
            columns: nil, rowDenied: "a timer reads the event; read a view with lookup('view', $key).column",
            pathsDenied: tombstone ? "a tombstone has no payload (use `$key`)" : nil, lookupViews: views)

        var after: Int64?
        if !cancels {
            if let afterNode = field("after") {
                if let text = scalar(afterNode, what: "`schedule.after`") {
                    after = ScheduleSpec.milliseconds(text)
                    if after == nil {
                        report(.invalidValue, "`schedule.after` is `\(text)`, not a duration: write a positive whole number "
                            + "with a unit, as in 500ms, 30s, 15m, 2h or 1d", at: afterNode)
                        failed = true
                    }
                } else { failed = true }
            } else {
                report(.missingKey, "`schedule` needs `after` (a duration after the event's timestamp, such as 15m)", at: specNode)
                failed = true
            }
        }

        var event = ""
        if let eventNode = field("event") {
            if let text = scalar(eventNode, what: "`\(name).event`") {
                event = text
                if text.isEmpty || text == "*" || text == "_tombstone" {
                    report(.invalidValue, "`\(name).event` names the event type the timer delivers; `\(text)` is not one", at: eventNode)
                    failed = true
                }
            } else { failed = true }
        } else {
            report(.missingKey, "`\(name)` needs `event` (the event type the timer delivers, handled in `on`)", at: specNode)
            failed = true
        }

        var key: Expr?
        if let keyNode = field("key") {
            key = keyExpression(keyNode, what: "`\(name).key`", reads: reads)
            if key == nil { failed = true }
        } else {
            report(.missingKey, "`\(name)` needs `key` (the message key of the fired event, such as $key)", at: specNode)
            failed = true
        }

        var data: EmitSpec.Template?
        var dataMembers: [(name: String, node: Node)] = []
        if let dataNode = field("data") {
            if case .mapping(let members) = dataNode {
                dataMembers = members.compactMap { member in member.key.string.map { (name: $0, node: member.key) } }
                data = template(dataNode, path: "schedule.data", reads: reads)
                if data == nil { failed = true }
            } else {
                report(.invalidValue, "`schedule.data` must be a mapping (the members of the fired event), not \(dataNode.shapeName)", at: dataNode)
                failed = true
            }
        }
        if let eventNode = field("event"), !event.isEmpty {
            scheduledEvents.append(ScheduledEvent(event: event, node: eventNode, dataMembers: dataMembers))
        }

        var when: Expr?
        if let whenNode = pairs.first(where: { $0.key == "when" })?.value {
            when = condition(whenNode, reads: reads)
            if when == nil { failed = true }
        }
        guard !failed, let key else { return nil }
        let spec = ScheduleSpec(event: event, key: key, after: after, data: data, pipeline: pipelineName)
        return OperationSpec(kind: cancels ? .cancelSchedule : .schedule, view: -1, key: [], set: [], when: when, schedule: spec)
    }

    /// Reports each timer event type without a handler (with a did-you-mean), and `data:` members
    /// that would replace the fired event's type.
    mutating func checkScheduledEvents(handlers: [HandlerSpec], typePath: JSONPath) {
        let types = handlers.map(\.type).filter { $0 != "*" && $0 != "_tombstone" }
        let typeMember: String?
        if case .member(let first)? = typePath.components.first { typeMember = first } else { typeMember = nil }
        for scheduled in scheduledEvents {
            if !types.contains(scheduled.event) {
                let hint = didYouMean(scheduled.event, among: types).map { "; did you mean `\($0)`?" }
                    ?? " (add a handler `\(scheduled.event):` under `on`)"
                report(.unknownEvent, "the timer delivers `\(scheduled.event)`, which has no handler in `on`\(hint)", at: scheduled.node)
            }
            for member in scheduled.dataMembers where member.name == typeMember {
                report(.invalidValue, "`schedule.data` cannot set `\(member.name)`: the fired event's type (`source.type`: \(typePath)) "
                    + "is the timer's `event`", at: member.node)
            }
        }
    }
}
