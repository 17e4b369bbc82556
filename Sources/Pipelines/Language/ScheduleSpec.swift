/// A `schedule:` or `cancel_schedule:` operation: a durable timer of the pipeline, keyed by the
/// event type it delivers and a message key (`Timers` in ProjectorModel holds its tables).
struct ScheduleSpec: Sendable {
    /// The event type the timer delivers; the pipeline has a handler for it.
    var event: String
    /// The message key the fired event carries (text).
    var key: Expr
    /// `schedule:` only: milliseconds after the scheduling event's timestamp; nil for `cancel_schedule:`.
    var after: Int64?
    /// `schedule:` only: the object merged into the fired event's value.
    var data: EmitSpec.Template?
    /// The pipeline's name: part of the fired records' `projector.id`.
    var pipeline: String

    /// The operation in the pipeline's canonical text.
    var canonical: String {
        guard let after else { return "cancel_schedule \(event.debugDescription) key=\(key.canonical)" }
        return "schedule \(event.debugDescription) after=\(after)ms key=\(key.canonical) data=\(data?.canonical ?? "-")"
    }

    /// Parses `500ms`, `30s`, `15m`, `2h` or `1d` into milliseconds; nil for anything else
    /// (no sign, no fraction, no zero: a timer fires strictly after the event that set it).
    static func milliseconds(_ text: String) -> Int64? {
        let units: [(suffix: String, factor: Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        guard let unit = units.first(where: { text.hasSuffix($0.suffix) && (text.dropLast($0.suffix.count).last?.isNumber ?? false) })
        else { return nil }
        let digits = text.dropLast(unit.suffix.count)
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int64(digits), count > 0 else { return nil }
        let (value, overflow) = count.multipliedReportingOverflow(by: unit.factor)
        // A century is far beyond any saga; the bound keeps `timestamp + after` from overflowing.
        return overflow || value > 100 * 366 * 86_400_000 ? nil : value
    }
}
