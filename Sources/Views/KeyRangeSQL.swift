internal import ProjectorModel

/// The statement of `RowReader.rows(in:keyPrefix:upTo:)`, the same on every SQL store: rows whose
/// first key columns equal a prefix and whose next key column is at most a bound, in key order —
/// a range of the primary key's b-tree.
package enum KeyRangeSQL {
    /// - Parameters:
    ///   - placeholder: the store's spelling of the n-th parameter (1-based): `?1`, `$1`.
    /// - Throws: `ViewStoreError` when the prefix leaves no key column for the bound.
    package static func select(columns columnList: String, from table: String, keyNames: [String], prefixCount: Int,
                               placeholder: (Int) -> String) throws -> String {
        guard prefixCount < keyNames.count else {
            throw ViewStoreError(
                code: .invalidDefinition,
                message: "a key range of \(table) gives \(prefixCount) of its \(keyNames.count) key columns; it needs fewer")
        }
        var conditions = (0 ..< prefixCount).map { "\(keyNames[$0]) = \(placeholder($0 + 1))" }
        conditions.append("\(keyNames[prefixCount]) <= \(placeholder(prefixCount + 1))")
        return "SELECT \(columnList) FROM \(quoted(table)) WHERE \(conditions.joined(separator: " AND ")) "
            + "ORDER BY \(keyNames.joined(separator: ", "))"
    }
}
