import ProjectorModel
import Yams

/// `views:` entries: columns, their types and defaults, and the key columns.
extension PipelineBuilder {
    mutating func buildView(_ name: String, _ node: Node) -> ViewDefinition? {
        guard let pairs = mapping(node, what: "view `\(name)`", allowed: ["key", "columns"]) else { return nil }
        guard let columnsNode = pairs.first(where: { $0.key == "columns" })?.value else {
            report(.missingKey, "missing key `columns` in view `\(name)`", at: node)
            return nil
        }
        guard let keyList = pairs.first(where: { $0.key == "key" })?.value else {
            report(.missingKey, "missing key `key` in view `\(name)` (the list of its key columns)", at: node)
            return nil
        }
        var columns: [ColumnDefinition] = []
        guard let columnPairs = mapping(columnsNode, what: "`columns` of view `\(name)`", allowed: nil) else { return nil }
        for entry in columnPairs {
            guard checkName(entry.key, what: "column name", at: entry.keyNode) else { continue }
            var typeNode = entry.value
            var defaultNode: Node?
            var notNull = false
            if case .mapping = entry.value {
                guard let spec = mapping(entry.value, what: "column `\(entry.key)`", allowed: ["type", "default", "not_null"]) else { continue }
                if let node = spec.first(where: { $0.key == "not_null" })?.value {
                    switch scalar(node, what: "`not_null` of column `\(entry.key)`") {
                    case "true": notNull = true
                    case "false": notNull = false
                    case let other?: report(.invalidValue, "`not_null` of column `\(entry.key)` must be true or false, not `\(other)`", at: node)
                    case nil: break
                    }
                }
                guard let t = spec.first(where: { $0.key == "type" })?.value else {
                    report(.missingKey, "missing key `type` in column `\(entry.key)`", at: entry.value)
                    continue
                }
                typeNode = t
                defaultNode = spec.first { $0.key == "default" }?.value
            }
            guard let typeName = scalar(typeNode, what: "the type of column `\(entry.key)`") else { continue }
            guard let type = ColumnType(rawValue: typeName) else {
                let hint = didYouMean(typeName.lowercased(), among: ColumnType.allCases.map(\.rawValue)).map { "; did you mean `\($0)`?" } ?? ""
                report(.unknownType, "unknown column type `\(typeName)`\(hint) (types: text, integer, real, boolean, json)", at: typeNode)
                continue
            }
            var defaultValue: ViewValue
            switch type {
            case .integer, .boolean: defaultValue = .integer(0)
            case .real: defaultValue = .real(0)
            case .text, .json: defaultValue = .null
            }
            if let defaultNode, let (expr, staticType) = expression(defaultNode, what: "the default of `\(entry.key)`", reads: ReadPermissions(columns: nil, rowDenied: "a default is a constant", pathsDenied: "a default is a constant", constantOnly: true)) {
                if !Self.fits(staticType, in: type) {
                    report(.typeMismatch, "the default of `\(entry.key)` is \(staticType.name), not \(type.rawValue)", at: defaultNode)
                } else {
                    do {
                        defaultValue = try Evaluator.constant(expr, for: type)
                    } catch {
                        report(.invalidValue, "the default of `\(entry.key)` fails: \(error.message)", at: defaultNode)
                    }
                }
            }
            columns.append(ColumnDefinition(name: entry.key, type: type, defaultValue: defaultValue, notNull: notNull))
        }
        if columns.isEmpty {
            if columnPairs.isEmpty { report(.invalidValue, "view `\(name)` needs at least one column", at: columnsNode) }
            return nil
        }
        var keyColumns: [Int] = []
        let keyNames: [(String, Node)]
        switch keyList {
        case .sequence(let items): keyNames = items.compactMap { item in scalar(item, what: "a key column").map { ($0, item) } }
        case .scalar(let s): keyNames = [(s.string, keyList)]
        default: report(.invalidValue, "`key` of view `\(name)` must be a list of column names", at: keyList); return nil
        }
        if keyNames.isEmpty { report(.missingKeyColumn, "view `\(name)` needs at least one key column", at: keyList); return nil }
        for (keyName, node) in keyNames {
            guard let index = columns.firstIndex(where: { $0.name == keyName }) else {
                let hint = didYouMean(keyName, among: columns.map(\.name)).map { "; did you mean `\($0)`?" } ?? ""
                report(.unknownColumn, "key column `\(keyName)` is not a column of view `\(name)`\(hint)", at: node)
                continue
            }
            if keyColumns.contains(index) { report(.duplicateKey, "key column `\(keyName)` is listed twice", at: node); continue }
            if columns[index].type == .json { report(.invalidValue, "key column `\(keyName)` cannot be of type json", at: node); continue }
            keyColumns.append(index)
        }
        guard keyColumns.count == keyNames.count else { return nil }
        return ViewDefinition(name: name, columns: columns, keyColumns: keyColumns)
    }
}
