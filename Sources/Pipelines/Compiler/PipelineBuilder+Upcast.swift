import Yams

/// The steps of `upcast:` (`from`, `rename`, `default`).
extension PipelineBuilder {
    mutating func buildUpcastStep(_ node: Node) -> UpcastStep? {
        guard let pairs = mapping(node, what: "an upcast step", allowed: ["from", "rename", "default"]) else { return nil }
        guard let fromNode = pairs.first(where: { $0.key == "from" })?.value else {
            report(.missingKey, "an upcast step needs `from` (the version it upgrades)", at: node)
            return nil
        }
        guard let fromText = scalar(fromNode, what: "`from`"), let from = Int(fromText), from >= 1 else {
            report(.invalidValue, "`from` must be a positive integer", at: fromNode)
            return nil
        }
        var step = UpcastStep(from: from, renames: [], defaults: [])
        if let renameNode = pairs.first(where: { $0.key == "rename" })?.value, let renames = mapping(renameNode, what: "`rename`", allowed: nil) {
            for entry in renames {
                guard let source = path(entry.keyNode, what: "a rename source"), let target = path(entry.value, what: "a rename target") else { continue }
                if source.hasPrefix(target) || target.hasPrefix(source) {
                    report(.invalidPath, "cannot rename `\(source)` to `\(target)`: one contains the other", at: entry.keyNode)
                    continue
                }
                step.renames.append(.init(from: source, to: target))
            }
        }
        if let defaultNode = pairs.first(where: { $0.key == "default" })?.value, let defaults = mapping(defaultNode, what: "`default`", allowed: nil) {
            for entry in defaults {
                guard let target = path(entry.keyNode, what: "a default path") else { continue }
                let reads = ReadPermissions(columns: nil, rowDenied: "an upcast default is a constant", pathsDenied: "an upcast default is a constant", constantOnly: true)
                guard let (expr, _) = expression(entry.value, what: "the default of `\(target)`", reads: reads) else { continue }
                step.defaults.append(.init(path: target, value: expr))
            }
        }
        return step
    }
}
