internal import GRDBSQLite
internal import ProjectorModel

/// The bytes of the text values of one row, bound with `SQLITE_STATIC`: SQLite reads them in
/// place instead of copying each into a buffer it allocates (one `malloc` per text value and
/// bind; measured at ~2,500 instructions per event of `order_summary`).
///
/// - Important: The bytes stay valid until the next ``bind(_:from:in:connection:)``, so every
///   statement bound through the arena must be stepped (and reset) before the arena binds again;
///   statements are always rebound in full before they step again. One arena per connection,
///   used on the connection's thread only.
final class BindArena {
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    }

    deinit { storage.deallocate() }

    /// Binds `values` to parameters `first`, `first + 1`, ... of `statement`.
    func bind(_ values: [ViewValue], from first: Int32 = 1, in statement: OpaquePointer, connection: OpaquePointer?) throws {
        var total = 0
        for index in values.indices { if case .text(let text) = values[index] { total += text.utf8.count } }
        if total > capacity {
            storage.deallocate()
            capacity = max(total, capacity * 2)
            storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        }
        var used = 0
        for offset in values.indices {
            let index = first + Int32(offset)
            let code: Int32
            switch values[offset] {
            case .null: code = sqlite3_bind_null(statement, index)
            case .integer(let integer): code = sqlite3_bind_int64(statement, index, integer)
            case .real(let real): code = sqlite3_bind_double(statement, index, real)
            case .text(var text):
                let start = storage + used
                let count = text.withUTF8 { bytes in
                    if let base = bytes.baseAddress { start.copyMemory(from: base, byteCount: bytes.count) }
                    return bytes.count
                }
                used += count
                // A zero-length text still needs a non-nil pointer, or SQLite binds NULL. A nil
                // destructor is `SQLITE_STATIC`: SQLite reads the bytes in place.
                code = sqlite3_bind_text(statement, index, start.assumingMemoryBound(to: CChar.self), Int32(count), nil)
            }
            if code != SQLITE_OK {
                throw sqliteError(code: code, connection: connection, doing: "binding a value")
            }
        }
    }
}
