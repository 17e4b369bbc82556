import ProjectorModel

/// Constant expressions (column defaults, upcast defaults) evaluated once, while the pipeline is
/// built or compiled, with the runtime evaluator so they mean exactly what they would per event.
extension Evaluator {
    /// Evaluates a constant expression (a column default) to a stored value.
    static func constant(_ expr: Expr, for type: ColumnType) throws(EventFailure) -> ViewValue {
        let compiled = CompiledExpression.compile(expr, columns: [], paths: { _ in 0 })
        let empty: [UInt8] = []
        return try empty.withUnsafeBufferPointer { (bytes) throws(EventFailure) -> ViewValue in
            let context = EvaluationContext(bytes: bytes, slots: UnsafeMutableBufferPointer(start: nil, count: 0), access: [], key: .null, topic: "", partition: 0, offset: 0, timestamp: nil)
            return try evaluate(compiled, context, row: []).stored(as: type, column: "default")
        }
    }

    /// Evaluates a constant expression to a `Sendable` literal.
    static func constantValue(_ expr: Expr) throws(EventFailure) -> ConstantValue {
        switch try constant(expr, for: .json) {
        case .null: return .null
        default: break
        }
        let compiled = CompiledExpression.compile(expr, columns: [], paths: { _ in 0 })
        let empty: [UInt8] = []
        return try empty.withUnsafeBufferPointer { (bytes) throws(EventFailure) -> ConstantValue in
            let context = EvaluationContext(bytes: bytes, slots: UnsafeMutableBufferPointer(start: nil, count: 0), access: [], key: .null, topic: "", partition: 0, offset: 0, timestamp: nil)
            switch try evaluate(compiled, context, row: []) {
            case .integer(let v): return .integer(v)
            case .real(let v): return .real(v)
            case .boolean(let v): return .boolean(v)
            case let other: return .text(other.asText ?? "")
            }
        }
    }
}
