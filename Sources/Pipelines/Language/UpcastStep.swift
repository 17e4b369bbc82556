/// One upcast step: turns version `from` into `from + 1`.
struct UpcastStep: Sendable {
    struct Rename: Sendable { var from: JSONPath; var to: JSONPath }
    struct Default: Sendable { var path: JSONPath; var value: Expr }
    var from: Int
    var renames: [Rename]
    var defaults: [Default]
}
