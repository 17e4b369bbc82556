internal import GRDBSQLite
internal import ProjectorModel

/// The bytes of the text values of the rows being bound, bound with `SQLITE_STATIC`: SQLite
/// reads them in place instead of copying each into a buffer it allocates (one `malloc` per text
/// value and bind; measured at ~2,500 instructions per event of `order_summary`).
///
/// - Important: The bytes stay valid until the next ``reserve(_:)`` (or ``bind(_:from:in:connection:)``),
///   so every statement bound through the arena must be stepped (and reset) before the arena
///   binds again; statements are always rebound in full before they step again. One arena per
///   connection, used on the connection's thread only.
final class BindArena {
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    /// The bytes appended since the last ``reserve(_:)``.
    private var used = 0

    init(capacity: Int = 4096) {
        self.capacity = capacity
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    }

    deinit { storage.deallocate() }

    /// The UTF-8 bytes of the text values in `values`.
    static func textBytes(_ values: [ViewValue]) -> Int {
        var total = 0
        for index in values.indices { if case .text(let text) = values[index] { total += text.utf8.count } }
        return total
    }

    /// Starts binding afresh with room for `bytes` text bytes: the bytes of earlier binds die, so
    /// a statement bound through several ``append(_:from:in:connection:)`` calls must reserve
    /// their total first (growing the storage moves it).
    func reserve(_ bytes: Int) {
        used = 0
        guard bytes > capacity else { return }
        storage.deallocate()
        capacity = max(bytes, capacity * 2)
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    }

    /// Binds `values` to parameters `first`, `first + 1`, ... of `statement`, alone.
    func bind(_ values: [ViewValue], from first: Int32 = 1, in statement: OpaquePointer, connection: OpaquePointer?) throws {
        reserve(Self.textBytes(values))
        try append(values, from: first, in: statement, connection: connection)
    }

    /// Binds `values` to parameters `first`, `first + 1`, ... of `statement`, their text after the
    /// bytes appended since ``reserve(_:)``, which must have made room for them.
    func append(_ values: [ViewValue], from first: Int32, in statement: OpaquePointer, connection: OpaquePointer?) throws {
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
                    precondition(used + bytes.count <= capacity, "BindArena.append past the bytes reserved")
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
