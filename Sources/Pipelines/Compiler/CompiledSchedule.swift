import ProjectorModel

/// A `schedule:` or `cancel_schedule:` compiled against the pipeline's timer tables.
///
/// Scheduling writes the timer's two rows (`Timers`) through the batch's change set, after
/// deleting the queue row of the timer it replaces; cancelling deletes both. Like every other
/// operation, an event that fails later undoes it.
final class CompiledSchedule: Sendable {
    let event: String
    let key: CompiledExpression
    let keyText: String
    /// Milliseconds after the event's timestamp; nil for `cancel_schedule:`.
    let after: Int64?
    let data: CompiledEmit.Template?
    /// The timers table and the queue table in the plan's views.
    let timers: Int
    let queue: Int

    init(_ spec: ScheduleSpec, timers: Int, queue: Int, compile: (Expr) -> CompiledExpression) {
        event = spec.event
        key = compile(spec.key)
        keyText = spec.key.canonical
        after = spec.after
        data = spec.data.map { CompiledEmit.build($0, compile: compile) }
        self.timers = timers
        self.queue = queue
    }

    /// `schedule: PaymentTimeout`, for error messages.
    private var title: String { "\(after == nil ? "cancel_schedule" : "schedule"): \(event)" }

    /// Schedules, replaces or cancels the timer (`event`, key of the event).
    /// - Throws: `EventFailure` when the key or data fails, or the event has no timestamp to count from.
    func apply(_ context: EvaluationContext, _ batch: inout ChangeSet, _ rows: inout some RowReader) throws {
        let value: Value
        do {
            value = try Evaluator.evaluate(key, context, row: [])
        } catch {
            throw EventFailure(code: error.code, message: "`key` of `\(title)` (\(keyText)): \(error.message)")
        }
        let timerKey: String
        switch value {
        case .null: throw EventFailure(code: .nullKey, message: "`key` of `\(title)` (\(keyText)) is null")
        case .text, .string, .integer: timerKey = value.asText!
        default: throw EventFailure(code: .typeMismatch, message: "`key` of `\(title)` (\(keyText)) gave \(value.typeName), not text")
        }
        var row: [ViewValue]?
        if let after {
            guard let timestamp = context.timestamp else {
                throw EventFailure(code: .missingTimestamp, message: "`\(title)` counts from the event's timestamp, and this event has none")
            }
            var json: String?
            if let data {
                var text = ""
                try CompiledEmit.write(data, path: "data", title: title, context, into: &text)
                json = text
            }
            let (due, overflow) = timestamp.addingReportingOverflow(after)
            if overflow { throw EventFailure(code: .overflow, message: "`\(title)`: the timestamp \(timestamp) plus \(after) ms overflows") }
            row = [.text(event), .text(timerKey), .integer(due), .text(context.topic), .integer(Int64(context.partition)), json.map { .text($0) } ?? .null]
        }
        let entry = try batch.entry(view: timers, key: [.text(event), .text(timerKey)], rows: &rows)
        if let current = batch.row(entry) {
            if let row, ViewValue.areIdentical(current, row) { return }
            batch.set(queueEntry(of: current, timer: entry, &batch), nil)
        }
        batch.set(entry, row)
        if let row {
            let queued = queueEntry(of: row, timer: entry, &batch)
            batch.set(queued, Timers.queueRow(from: row))
            batch.scheduled.append(queued)
        }
    }

    /// The queue entry of a timers row, without a read: the stored queue row with that key is the
    /// one of the stored timers row, if that row has the same due time and partition.
    private func queueEntry(of timer: [ViewValue], timer entry: Int, _ batch: inout ChangeSet) -> Int {
        let queueRow = Timers.queueRow(from: timer)
        let key = Array(queueRow.prefix(5))
        let stored = batch.stored(entry).map(Timers.queueRow(from:))
        let storedRow = stored.flatMap { ViewValue.areIdentical(Array($0.prefix(5)), key) ? $0 : nil }
        return batch.entry(view: queue, key: key, stored: storedRow)
    }
}
