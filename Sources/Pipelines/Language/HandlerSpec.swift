/// One operation of a handler.
struct OperationSpec: Sendable {
    enum Kind: String, Sendable { case upsert, update, delete }
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
}

/// The operations of one event type.
struct HandlerSpec: Sendable {
    var type: String
    var operations: [OperationSpec]
}
