internal import Foundation
internal import PostgresNIO
public import ProjectorModel
public import Views

extension PostgresViewStore {
    /// The live views of every pipeline with their pipeline's live checkpoints, in one read-only
    /// `REPEATABLE READ` snapshot, as `SQLiteViewStore` lists them.
    public func viewDescriptions() throws -> [ViewDescription] {
        try read(doing: "listing the views") {
            let owned = try session.query(
                #"SELECT "pipeline", "name" FROM "_projector_views" WHERE "pipeline" NOT LIKE '%@shadow' ORDER BY "name" COLLATE "C""#,
                doing: "listing the views")
            var pipelines: [String: (generation: String, checkpoints: [Checkpoint])] = [:]
            return try owned.map { row in
                let cells = Array(row)
                let pipeline = cells[0].text ?? ""
                let name = cells[1].text ?? ""
                if pipelines[pipeline] == nil {
                    pipelines[pipeline] = (try generation(pipeline: pipeline), try checkpoints(key: pipeline))
                }
                return try describe(view: name, pipeline: pipeline, generation: pipelines[pipeline]!.generation,
                                    checkpoints: pipelines[pipeline]!.checkpoints, columns: try catalogColumns(view: name)).view
            }
        }
    }

    /// One page of a live view, read in one read-only `REPEATABLE READ` snapshot with its
    /// description and checkpoints: the rows and the position answer the same moment, and a
    /// swap (one transaction of renames) is seen whole or not at all.
    ///
    /// Two statements: the view's pipeline, generation, checkpoints and columns in one, its rows
    /// in the other (a lookup's cost is its round trips).
    public func query(_ query: ViewQuery, maxLimit: Int) throws -> ViewPage {
        try read(doing: "reading view \(query.view)") {
            guard let metadata = try session.query(Self.pageMetadataSQL, binds(query.view), doing: "reading view \(query.view)")
                .first.map(Array.init)
            else {
                throw ViewStoreError(code: .noSuchView, message: "no view \(query.view); GET /views lists the views")
            }
            let checkpoints = Self.jsonRows(metadata[2].text).map { cells in
                Checkpoint(topic: cells[0] as? String ?? "", partition: Int32(cells[1] as? String ?? "") ?? 0,
                           nextOffset: Int64(cells[2] as? String ?? "") ?? 0)
            }
            let columns = Self.jsonRows(metadata[3].text).map { cells in
                CatalogColumn(name: cells[0] as? String ?? "", type: cells[1] as? String ?? "", comment: cells[2] as? String,
                              keyPosition: Int64(cells[3] as? String ?? ""))
            }
            let (view, storage) = try describe(
                view: query.view, pipeline: metadata[0].text ?? "", generation: Self.generation(fingerprint: metadata[1].text ?? ""),
                checkpoints: checkpoints, columns: columns)
            let resolved = try query.resolve(against: view, maxLimit: maxLimit)
            let (sql, arguments) = PostgresQuerySQL.make(resolved)
            var bindings = PostgresBindings(capacity: arguments.count)
            for argument in arguments {
                try bindings.append(ColumnArray.Scalar(value: argument.value, type: storage[argument.column]))
            }
            var rows = try session.query(sql, bindings, doing: "reading view \(query.view)").map { row in
                try row.map { try $0.viewValue(table: query.view) }
            }
            var next: String?
            if rows.count > resolved.limit {
                rows.removeLast(rows.count - resolved.limit)
                next = resolved.cursor(after: rows[rows.count - 1])
            }
            return ViewPage(view: view, rows: rows, nextCursor: next)
        }
    }

    /// A column as the catalog has it: name, `format_type`, comment, position in the primary key.
    struct CatalogColumn {
        var name: String
        var type: String
        var comment: String?
        var keyPosition: Int64?
    }

    /// The catalog's columns of `view` in declaration order, as JSON text rows of
    /// ``pageMetadataSQL``'s last cell.
    static let catalogColumnsSQL = """
        SELECT json_agg(json_build_array(a.attname::text, format_type(a.atttypid, NULL), col_description(c.oid, a.attnum),
            (SELECT k.n::text FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
             WHERE i.indrelid = c.oid AND i.indisprimary AND k.attnum = a.attnum)) ORDER BY a.attnum)
        FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE c.relname = $1 AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
        AND a.attnum > 0 AND NOT a.attisdropped
        """

    /// The live pipeline of view `$1`, its fingerprint (as `fingerprintSQL` gives it), its
    /// checkpoints and the view's columns (both JSON); no row when no live pipeline owns the view.
    static let pageMetadataSQL = """
        WITH p AS (SELECT "pipeline" FROM "_projector_views" WHERE "name" = $1 AND "pipeline" NOT LIKE '%@shadow')
        SELECT p."pipeline",
            coalesce((SELECT "hash" FROM "_projector_pipelines" WHERE "name" = p."pipeline"), '') || ':' ||
            coalesce((SELECT string_agg(c.oid::text, ',' ORDER BY c.relname COLLATE "C") FROM pg_class c
                WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
                AND c.relkind = 'r' AND c.relname IN (SELECT "table_name" FROM "_projector_views" WHERE "pipeline" = p."pipeline")), ''),
            (SELECT json_agg(json_build_array("topic", "partition"::text, "next_offset"::text) ORDER BY "topic" COLLATE "C", "partition")
                FROM "_projector_checkpoints" WHERE "pipeline" = p."pipeline"),
            (\(catalogColumnsSQL))
        FROM p
        """

    func catalogColumns(view: String) throws -> [CatalogColumn] {
        let json = try session.query(Self.catalogColumnsSQL, binds(view), doing: "reading the columns of \(view)").first.flatMap { Array($0)[0].text }
        return Self.jsonRows(json).map { cells in
            CatalogColumn(name: cells[0] as? String ?? "", type: cells[1] as? String ?? "", comment: cells[2] as? String,
                          keyPosition: Int64(cells[3] as? String ?? ""))
        }
    }

    /// The rows of a `json_agg` of 4-element arrays (`nil` JSON: none); short rows are padded with NSNull.
    static func jsonRows(_ json: String?) -> [[Any]] {
        guard let json, let rows = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[Any]] else { return [] }
        return rows.map { $0 + Array(repeating: NSNull(), count: max(0, 4 - $0.count)) }
    }

    /// A view's columns with their declared types and its key: the storage type, refined by the
    /// column comment `createTables` writes for boolean and json columns (PostgreSQL stores them
    /// as `bigint` and `text`).
    private func describe(
        view: String, pipeline: String, generation: String, checkpoints: [Checkpoint], columns rows: [CatalogColumn]
    ) throws -> (view: ViewDescription, storage: [PostgresColumnType]) {
        guard !rows.isEmpty else {
            throw ViewStoreError(code: .noSuchView, message: "no view \(view); GET /views lists the views")
        }
        var columns: [ViewColumn] = []
        var storage: [PostgresColumnType] = []
        for row in rows {
            let declared = PostgresColumnType.declared(comment: row.comment)
            switch row.type {
            case "bigint", "integer", "smallint", "boolean":
                storage.append(.bigint)
                columns.append(ViewColumn(name: row.name, type: declared == .boolean ? .boolean : .integer))
            case "double precision", "real":
                storage.append(.double)
                columns.append(ViewColumn(name: row.name, type: .real))
            default:
                storage.append(.text)
                columns.append(ViewColumn(name: row.name, type: declared == .json ? .json : .text))
            }
        }
        let keyColumns = rows.enumerated()
            .compactMap { index, row -> (Int64, Int)? in row.keyPosition.map { ($0, index) } }
            .sorted { $0.0 < $1.0 }
            .map(\.1)
        let description = ViewDescription(
            name: view, pipeline: pipeline, generation: generation, columns: columns,
            keyColumns: keyColumns.isEmpty ? Array(columns.indices) : keyColumns, checkpoints: checkpoints)
        return (description, storage)
    }

    /// The live generation's identity: a 64-bit FNV-1a hash of its fingerprint (the pipeline's
    /// hash and its tables' OIDs, which a swap changes), as 16 hex digits, as SQLite's.
    private func generation(pipeline: String) throws -> String {
        let tables = try session.query(
            #"SELECT "table_name" FROM "_projector_views" WHERE "pipeline" = $1"#, binds(pipeline),
            doing: "reading the tables of \(pipeline)"
        ).compactMap { Array($0)[0].text }
        return Self.generation(fingerprint: try fingerprint(key: pipeline, tables: tables))
    }

    private static func generation(fingerprint: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in fingerprint.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

extension PostgresColumnType {
    /// The comment that marks a column's declared type where the storage type does not tell it
    /// (`projector:boolean` on a `bigint`, `projector:json` on a `text` column), or `nil`.
    static func comment(for type: ColumnType) -> String? {
        switch type {
        case .boolean, .json: "projector:" + type.rawValue
        case .integer, .real, .text: nil
        }
    }

    /// The declared type a column comment names, or `nil` (no comment, or not ours).
    static func declared(comment: String?) -> ColumnType? {
        guard let comment, comment.hasPrefix("projector:") else { return nil }
        return ColumnType(rawValue: String(comment.dropFirst("projector:".count)))
    }
}
