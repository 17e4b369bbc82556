internal import GRDB
internal import GRDBSQLite
internal import ProjectorModel

// The hot path talks to SQLite's C API directly on statements GRDB prepared and owns (GRDB
// finalizes them): binding `ViewValue`s through `StatementArguments` would allocate per row.
// Every function here runs on the store's serialized GRDB queue.

/// `SQLITE_TRANSIENT`: SQLite copies the bytes before the bind call returns, so Swift's temporary
/// UTF-8 buffer may die right after (https://sqlite.org/c3ref/bind_blob.html).
nonisolated(unsafe) let sqliteTransient = unsafeBitCast(
    OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// Binds `value` to parameter `index` (1-based).
@inline(__always)
func bind(_ value: ViewValue, at index: Int32, in statement: OpaquePointer, connection: OpaquePointer?) throws {
    let code: Int32
    switch value {
    case .null:
        code = sqlite3_bind_null(statement, index)
    case .integer(let integer):
        code = sqlite3_bind_int64(statement, index, integer)
    case .real(let real):
        code = sqlite3_bind_double(statement, index, real)
    case .text(var text):
        code = text.withUTF8 { bytes in
            // An empty buffer may have a nil base address, which SQLite would bind as NULL.
            if let base = bytes.baseAddress {
                return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    sqlite3_bind_text(statement, index, $0, Int32(bytes.count), sqliteTransient)
                }
            }
            return sqlite3_bind_text(statement, index, "", 0, sqliteTransient)
        }
    }
    if code != SQLITE_OK {
        throw sqliteError(code: code, connection: connection, doing: "binding a value")
    }
}

/// Reads column `index` (0-based) of the current row.
@inline(__always)
func column(_ index: Int32, of statement: OpaquePointer) -> ViewValue {
    switch sqlite3_column_type(statement, index) {
    case SQLITE_NULL:
        return .null
    case SQLITE_INTEGER:
        return .integer(sqlite3_column_int64(statement, index))
    case SQLITE_FLOAT:
        return .real(sqlite3_column_double(statement, index))
    default:
        // TEXT, and BLOB read as its bytes' text: views never store BLOBs.
        let count = Int(sqlite3_column_bytes(statement, index))
        guard let bytes = sqlite3_column_text(statement, index), count > 0 else { return .text("") }
        return .text(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self))
    }
}

/// Steps a statement that returns no row, then resets it.
@inline(__always)
func execute(_ statement: OpaquePointer, connection: OpaquePointer?, doing action: @autoclosure () -> String) throws {
    let code = sqlite3_step(statement)
    if code != SQLITE_DONE && code != SQLITE_ROW {
        let error = sqliteError(code: code, connection: connection, doing: action())
        sqlite3_reset(statement)
        throw error
    }
    sqlite3_reset(statement)
}

/// A `ViewStoreError` for an SQLite result code, with SQLite's message.
func sqliteError(code: Int32, connection: OpaquePointer?, doing action: String) -> ViewStoreError {
    let detail = connection.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
    return storeError(primaryCode: code & 0xff, extendedCode: code, detail: detail, doing: action)
}

/// Maps GRDB's error to a `ViewStoreError`; other errors pass unchanged.
func storeError(_ error: any Error, doing action: String) -> any Error {
    guard let error = error as? DatabaseError else { return error }
    return storeError(
        primaryCode: error.resultCode.primaryResultCode.rawValue,
        extendedCode: error.extendedResultCode.rawValue,
        detail: error.message ?? "", doing: action)
}

func storeError(primaryCode: Int32, extendedCode: Int32, detail: String, doing action: String) -> ViewStoreError {
    let name = resultCodeName(primaryCode)
    switch primaryCode {
    case SQLITE_BUSY, SQLITE_LOCKED:
        return ViewStoreError(
            code: .busy,
            message: "\(action) failed: another connection held the view store locked past the busy timeout (\(detail)); "
                + "make sure only one worker writes this store, or raise the busy timeout",
            sqliteCode: name)
    case SQLITE_READONLY:
        return ViewStoreError(
            code: .readOnly,
            message: "\(action) failed: the view store is read-only (\(detail)); make the file and its directory writable",
            sqliteCode: name)
    case SQLITE_NOTADB:
        return ViewStoreError(
            code: .notADatabase,
            message: "\(action) failed: the file is not an SQLite database (\(detail)); point the store at a new path or an existing view store",
            sqliteCode: name)
    case SQLITE_CANTOPEN:
        return ViewStoreError(
            code: .cannotOpen,
            message: "\(action) failed: SQLite cannot open the file (\(detail)); check the path and its permissions",
            sqliteCode: name)
    default:
        return ViewStoreError(code: .sqlite, message: "\(action) failed: \(detail)", sqliteCode: name)
    }
}

/// The name of a primary SQLite result code (https://sqlite.org/rescode.html).
func resultCodeName(_ code: Int32) -> String {
    let names = [
        "SQLITE_OK", "SQLITE_ERROR", "SQLITE_INTERNAL", "SQLITE_PERM", "SQLITE_ABORT", "SQLITE_BUSY",
        "SQLITE_LOCKED", "SQLITE_NOMEM", "SQLITE_READONLY", "SQLITE_INTERRUPT", "SQLITE_IOERR",
        "SQLITE_CORRUPT", "SQLITE_NOTFOUND", "SQLITE_FULL", "SQLITE_CANTOPEN", "SQLITE_PROTOCOL",
        "SQLITE_EMPTY", "SQLITE_SCHEMA", "SQLITE_TOOBIG", "SQLITE_CONSTRAINT", "SQLITE_MISMATCH",
        "SQLITE_MISUSE", "SQLITE_NOLFS", "SQLITE_AUTH", "SQLITE_FORMAT", "SQLITE_RANGE", "SQLITE_NOTADB",
        "SQLITE_NOTICE", "SQLITE_WARNING",
    ]
    let primary = Int(code & 0xff)
    return primary < names.count ? names[primary] : "SQLITE_\(code)"
}

/// Quotes an SQL identifier: `order` becomes `"order"` (https://sqlite.org/lang_keywords.html).
package func quoted(_ identifier: String) -> String {
    "\"" + identifier.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
}
