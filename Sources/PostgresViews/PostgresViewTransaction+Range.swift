internal import PostgresNIO
internal import ProjectorModel
internal import Views

extension PostgresViewTransaction {
    /// One range of a table's primary key (`RowReader.rows(in:keyPrefix:upTo:)`), served by
    /// the primary key's btree: timers read their due rows this way, once per partition and batch.
    mutating func rows(in view: Int, keyPrefix: [ViewValue], upTo: ViewValue) throws -> [[ViewValue]] {
        guard tables.indices.contains(view) else {
            throw ViewStoreError(code: .invalidDefinition, message: "pipeline \(pipeline) has no table #\(view)")
        }
        let table = tables[view]
        let sql = try KeyRangeSQL.select(columns: table.columnList, from: table.name, keyNames: table.keyNames,
                                         prefixCount: keyPrefix.count) { "$\($0)" }
        // Key columns are NOT NULL: a null bound matches nothing.
        if keyPrefix.contains(.null) || upTo == .null { return [] }
        var bindings = PostgresBindings(capacity: keyPrefix.count + 1)
        for (value, column) in zip(keyPrefix + [upTo], table.keyColumns) {
            try bindings.append(ColumnArray.Scalar(value: value, type: table.types[column]))
        }
        return try session.query(sql, bindings, doing: "reading a key range of \(table.name)").map { row in
            try row.map { try $0.viewValue(table: table.name) }
        }
    }
}
