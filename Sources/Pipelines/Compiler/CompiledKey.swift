import ProjectorModel

/// An operation's key expressions as a chain evaluated by recursion, as ``CompiledAssignments``
/// are: each expression is read from a `let` of a borrowed reference, so it is not retained and
/// released around its evaluation (as one read from an array is).
final class CompiledKey: Sendable {
    /// The expression's position in the key.
    let position: Int
    let expression: CompiledExpression
    let next: CompiledKey?

    /// The chain of `key` (nil when it is empty).
    static func chain(_ key: [CompiledExpression]) -> CompiledKey? {
        key.indices.reversed().reduce(nil) { next, position in CompiledKey(position: position, expression: key[position], next: next) }
    }

    private init(position: Int, expression: CompiledExpression, next: CompiledKey?) {
        self.position = position
        self.expression = expression
        self.next = next
    }

    /// Evaluates this key expression and those after it into `values` (each at its position),
    /// counting those initialized in `evaluated`; returns the position of the first null value
    /// (its later expressions not evaluated), or -1.
    /// - Throws: what an expression throws.
    func evaluate(_ context: EvaluationContext, into values: UnsafeMutablePointer<Value>, _ evaluated: inout Int) throws(EventFailure) -> Int {
        let v = try Evaluator.evaluate(expression, context, row: [])
        if v.isNull { return position }
        (values + position).initialize(to: v)
        evaluated = position + 1
        // Through optional chaining on the `let`, the next expression is borrowed, not retained.
        return try next?.evaluate(context, into: values, &evaluated) ?? -1
    }
}
