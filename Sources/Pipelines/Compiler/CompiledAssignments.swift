import ProjectorModel

/// An operation's `set:` entries as a chain, evaluated by recursion: each expression is read from
/// a `let` of a reference the caller holds, so it is evaluated without retaining and releasing
/// its box, as one read from an array is (~40 instructions an expression, several per event).
final class CompiledAssignments: Sendable {
    /// The entry's position in `set:` (and in the values evaluated).
    let position: Int
    let type: ColumnType
    let expression: CompiledExpression
    /// The column name, for the error of a value that does not fit.
    let column: String
    let next: CompiledAssignments?

    /// The chain of `set` (nil when it is empty); `names` are the columns' names in `set` order.
    static func chain(_ set: [CompiledOperation.Assignment], names: [String]) -> CompiledAssignments? {
        set.indices.reversed().reduce(nil) { next, position in
            CompiledAssignments(position: position, type: set[position].type, expression: set[position].expression,
                                column: names[position], next: next)
        }
    }

    private init(position: Int, type: ColumnType, expression: CompiledExpression, column: String, next: CompiledAssignments?) {
        self.position = position
        self.type = type
        self.expression = expression
        self.column = column
        self.next = next
    }

    /// Evaluates this entry and those after it against `row` into `values` (each at its position),
    /// counting those initialized in `initialized`; returns the position that failed, with
    /// `failure`, or -1. (A position, not an optional tuple, whose type metadata the runtime
    /// would look up on every call.)
    func evaluate(
        _ context: EvaluationContext, row: [ViewValue], into values: UnsafeMutablePointer<ViewValue>,
        _ initialized: inout Int, _ failure: inout EventFailure?
    ) -> Int {
        do throws(EventFailure) {
            let v = try Evaluator.evaluate(expression, context, row: row)
            guard let cell = v.stored(as: type) else {
                failure = v.mismatch(type, column: column)
                return position
            }
            (values + position).initialize(to: cell)
            initialized = position + 1
        } catch {
            failure = error
            return position
        }
        // Through optional chaining on the `let`, the next entry is borrowed, not retained.
        return next?.evaluate(context, row: row, into: values, &initialized, &failure) ?? -1
    }
}
