import ProjectorModel

/// A handler's operations as a chain applied by recursion: each operation is read from a `let` of
/// a borrowed reference, so it is not retained and released around its application (as one read
/// from an array is).
final class OperationChain: Sendable {
    let operation: CompiledOperation
    let next: OperationChain?

    /// The chain of `operations` (nil when there are none).
    static func chain(_ operations: [CompiledOperation]) -> OperationChain? {
        operations.reversed().reduce(nil) { next, operation in OperationChain(operation, next: next) }
    }

    private init(_ operation: CompiledOperation, next: OperationChain?) {
        self.operation = operation
        self.next = next
    }

    /// Applies this operation and those after it, in order.
    /// - Throws: what an operation throws; the later ones are not applied.
    func apply(_ context: EvaluationContext, _ batch: inout ChangeSet, _ rows: inout some RowReader, _ noOps: inout Int) throws {
        try operation.apply(context, &batch, &rows, &noOps)
        // Through optional chaining on the `let`, the next operation is borrowed, not retained.
        try next?.apply(context, &batch, &rows, &noOps)
    }
}
