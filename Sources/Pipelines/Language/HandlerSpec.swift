/// One operation of a handler.
struct OperationSpec: Sendable {
    enum Kind: String, Sendable { case upsert, update, delete, emit, schedule, cancelSchedule = "cancel_schedule" }
    struct Assignment: Sendable {
        var column: Int
        var expr: Expr
    }
    var kind: Kind
    var view: Int
    /// Key expressions, in the order of the view's `keyColumns`.
    var key: [Expr]
    var set: [Assignment]
    var when: Expr?
    /// The record of an `emit:` (whose `view` is unused: the plan writes the outbox table).
    var emit: EmitSpec? = nil
    /// The timer of a `schedule:` or `cancel_schedule:` (whose `view` the plan sets to the timers table).
    var schedule: ScheduleSpec? = nil
}

/// The operations of one event type.
struct HandlerSpec: Sendable {
    var type: String
    var operations: [OperationSpec]
}
