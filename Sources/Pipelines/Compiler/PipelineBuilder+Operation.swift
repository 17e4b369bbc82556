import ProjectorModel
import Yams

/// The operations of `on:` handlers (`upsert`, `update`, `delete` with `key`, `set` and `when`).
extension PipelineBuilder {
    /// The index of column `name` of `view`, or nil after reporting it unknown (with a did-you-mean) at `node`.
    mutating func column(_ name: String, of view: ViewDefinition, at node: Node) -> Int? {
        if let index = view.columns.firstIndex(where: { $0.name == name }) { return index }
        let hint = didYouMean(name, among: view.columns.map(\.name)).map { "; did you mean `\($0)`?" } ?? ""
        report(.unknownColumn, "unknown column `\(name)` in view `\(view.name)`\(hint)", at: node)
        return nil
    }

    /// An operation's `when:`: a boolean expression (or one whose type is known only per event);
    /// nil, reported, when it is not.
    mutating func condition(_ node: Node, reads: ReadPermissions) -> Expr? {
        guard let (expr, type) = expression(node, what: "`when`", reads: reads) else { return nil }
        guard type == .boolean || type == .unknown || type == .null else {
            report(.typeMismatch, "`when` must be a boolean expression, not \(type.name)", at: node)
            return nil
        }
        return expr
    }

    mutating func buildOperation(_ node: Node, views: [ViewDefinition], tombstone: Bool) -> OperationSpec? {
        let allowed = ["upsert", "update", "delete", "key", "set", "when"]
        guard let pairs = mapping(node, what: "an operation", allowed: allowed) else { return nil }
        let kinds = pairs.filter { OperationSpec.Kind(rawValue: $0.key) != nil }
        guard kinds.count == 1 else {
            report(kinds.isEmpty ? .missingKey : .invalidValue, kinds.isEmpty ? "an operation needs one of `upsert`, `update` or `delete` naming its view" : "an operation has exactly one of `upsert`, `update` or `delete`", at: kinds.count > 1 ? kinds[1].keyNode : node)
            return nil
        }
        let kind = OperationSpec.Kind(rawValue: kinds[0].key)!
        guard let viewName = scalar(kinds[0].value, what: "the view of `\(kind.rawValue)`") else { return nil }
        guard let viewIndex = views.firstIndex(where: { $0.name == viewName }) else {
            let hint = didYouMean(viewName, among: views.map(\.name)).map { "; did you mean `\($0)`?" } ?? ""
            report(.unknownView, "unknown view `\(viewName)`\(hint)", at: kinds[0].value)
            return nil
        }
        let view = views[viewIndex]
        func value(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }
        let pathsDenied = tombstone ? "a tombstone has no payload (use `$key`)" : nil
        var failed = false

        var keyExprs: [Expr?] = Array(repeating: nil, count: view.keyColumns.count)
        if let keyNode = value("key"), let keyPairs = mapping(keyNode, what: "`key`", allowed: nil) {
            for entry in keyPairs {
                guard let columnIndex = column(entry.key, of: view, at: entry.keyNode) else {
                    failed = true
                    continue
                }
                guard let position = view.keyColumns.firstIndex(of: columnIndex) else {
                    report(.invalidValue, "`\(entry.key)` is not a key column of view `\(view.name)` (key: \(view.keyColumns.map { view.columns[$0].name }.joined(separator: ", ")))", at: entry.keyNode)
                    failed = true
                    continue
                }
                let reads = ReadPermissions(
                    columns: view.columns, rowDenied: "key expressions may not read row columns", pathsDenied: pathsDenied,
                    lookupViews: views)
                guard let (expr, type) = expression(entry.value, what: "key `\(entry.key)`", reads: reads) else { failed = true; continue }
                if !Self.fits(type, in: view.columns[columnIndex].type) {
                    report(.typeMismatch, "key `\(entry.key)` is \(view.columns[columnIndex].type.rawValue) but the expression is \(type.name)", at: entry.value)
                    failed = true
                }
                keyExprs[position] = expr
            }
            let missing = view.keyColumns.enumerated().filter { keyExprs[$0.offset] == nil }.map { view.columns[$0.element].name }
            if !failed, !missing.isEmpty {
                report(.missingKeyColumn, "`key` must give every key column of view `\(view.name)`; missing: \(missing.joined(separator: ", "))", at: keyNode)
                failed = true
            }
        } else if value("key") == nil {
            report(.missingKey, "`\(kind.rawValue): \(view.name)` needs `key` (a mapping of its key columns: \(view.keyColumns.map { view.columns[$0].name }.joined(separator: ", ")))", at: node)
            failed = true
        } else { failed = true }

        let rowReads = ReadPermissions(columns: view.columns, rowDenied: nil, pathsDenied: pathsDenied, lookupViews: views)
        var assignments: [OperationSpec.Assignment] = []
        if let setNode = value("set") {
            if kind == .delete {
                report(.invalidValue, "`delete` takes no `set`", at: setNode)
                failed = true
            } else if let setPairs = mapping(setNode, what: "`set`", allowed: nil) {
                for entry in setPairs {
                    guard let columnIndex = column(entry.key, of: view, at: entry.keyNode) else {
                        failed = true
                        continue
                    }
                    if view.keyColumns.contains(columnIndex) {
                        report(.invalidValue, "`\(entry.key)` is a key column: give it in `key`, not in `set`", at: entry.keyNode)
                        failed = true
                        continue
                    }
                    guard let (expr, type) = expression(entry.value, what: "`set.\(entry.key)`", reads: rowReads) else { failed = true; continue }
                    if !Self.fits(type, in: view.columns[columnIndex].type) {
                        report(.typeMismatch, "column `\(entry.key)` is \(view.columns[columnIndex].type.rawValue) but the expression is \(type.name)", at: entry.value)
                        failed = true
                    }
                    assignments.append(.init(column: columnIndex, expr: expr))
                }
            } else { failed = true }
        } else if kind == .update {
            report(.missingKey, "`update` needs `set`", at: node)
            failed = true
        }
        var when: Expr?
        if let whenNode = value("when") {
            when = condition(whenNode, reads: rowReads)
            if when == nil { failed = true }
        }
        if failed { return nil }
        return OperationSpec(kind: kind, view: viewIndex, key: keyExprs.map { $0! }, set: assignments, when: when)
    }
}
