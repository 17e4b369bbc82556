internal import Foundation
internal import PostgresNIO
internal import ProjectorModel
internal import Views

/// How a view column is stored in PostgreSQL.
enum PostgresColumnType {
    case text, bigint, double

    init(_ type: ColumnType) {
        switch type {
        case .text, .json: self = .text
        case .integer, .boolean: self = .bigint
        case .real: self = .double
        }
    }

    /// The column's SQL type. Text is `COLLATE "C"`: keys then order by bytes, as SQLite orders
    /// them, so rows, digests and `differingKeys` agree between the two stores.
    var sql: String {
        switch self {
        case .text: #"text COLLATE "C""#
        case .bigint: "bigint"
        case .double: "double precision"
        }
    }

    /// The array type a batch binds for this column (`unnest($n::…[])`).
    var arraySQL: String {
        switch self {
        case .text: "text[]"
        case .bigint: "bigint[]"
        case .double: "double precision[]"
        }
    }
}

/// One column of a batch as a PostgreSQL array parameter in binary format, NULL elements
/// included (postgres-nio's own arrays cannot hold NULL): a batch's rows go to a table in one
/// `INSERT … SELECT * FROM unnest($1, $2, …)` instead of a statement per row.
struct ColumnArray: PostgresThrowingDynamicTypeEncodable {
    enum Values {
        /// Column `column` of each row, converted to `type`.
        case column([[ViewValue]], column: Int, type: PostgresColumnType)
        /// Byte strings (`bytea[]`).
        case bytes([[UInt8]?])
        /// Texts (`text[]`).
        case texts([String?])
    }

    var values: Values

    var psqlType: PostgresDataType {
        switch values {
        case .column(_, _, .text), .texts: .textArray
        case .column(_, _, .bigint): .int8Array
        case .column(_, _, .double): .float8Array
        case .bytes: .byteaArray
        }
    }

    var psqlFormat: PostgresFormat { .binary }

    private var elementType: PostgresDataType {
        switch values {
        case .column(_, _, .text), .texts: .text
        case .column(_, _, .bigint): .int8
        case .column(_, _, .double): .float8
        case .bytes: .bytea
        }
    }

    private var count: Int {
        switch values {
        case .column(let rows, _, _): rows.count
        case .bytes(let bytes): bytes.count
        case .texts(let texts): texts.count
        }
    }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) throws {
        // https://www.postgresql.org/docs/current/arrays.html, array_recv: dimensions, has-null
        // flag, element type, then per dimension its length and lower bound, then the elements.
        buffer.writeInteger(count == 0 ? 0 : 1, as: Int32.self)
        buffer.writeInteger(1, as: Int32.self)
        buffer.writeInteger(elementType.rawValue)
        guard count > 0 else { return }
        buffer.writeInteger(Int32(count))
        buffer.writeInteger(1, as: Int32.self)
        switch values {
        case .column(let rows, let column, let type):
            for row in rows { try Self.write(row[column], as: type, into: &buffer) }
        case .bytes(let list):
            for bytes in list {
                guard let bytes else { buffer.writeInteger(-1, as: Int32.self); continue }
                buffer.writeInteger(Int32(bytes.count))
                buffer.writeBytes(bytes)
            }
        case .texts(let list):
            for text in list {
                guard let text else { buffer.writeInteger(-1, as: Int32.self); continue }
                Self.writeText(text, into: &buffer)
            }
        }
    }

    /// Writes one element; a value of another type than the column is converted as SQLite's
    /// column affinity would (an integral real to an integer column, a number to a text column).
    static func write(_ value: ViewValue, as type: PostgresColumnType, into buffer: inout ByteBuffer) throws {
        switch (value, type) {
        case (.null, _):
            buffer.writeInteger(-1, as: Int32.self)
        case (.integer(let integer), .bigint):
            buffer.writeInteger(8, as: Int32.self)
            buffer.writeInteger(integer)
        case (.real(let real), .double):
            buffer.writeInteger(8, as: Int32.self)
            buffer.writeInteger(real.bitPattern)
        case (.integer(let integer), .double):
            buffer.writeInteger(8, as: Int32.self)
            buffer.writeInteger(Double(integer).bitPattern)
        case (.real(let real), .bigint) where real.rounded() == real && abs(real) < 9.2e18:
            buffer.writeInteger(8, as: Int32.self)
            buffer.writeInteger(Int64(real))
        case (.text(let text), .text):
            writeText(text, into: &buffer)
        case (.integer(let integer), .text):
            writeText(String(integer), into: &buffer)
        case (.real(let real), .text):
            writeText(String(real), into: &buffer)
        case (.text(let text), .bigint) where Int64(text) != nil:
            buffer.writeInteger(8, as: Int32.self)
            buffer.writeInteger(Int64(text)!)
        case (.text(let text), .double) where Double(text) != nil:
            buffer.writeInteger(8, as: Int32.self)
            buffer.writeInteger(Double(text)!.bitPattern)
        case (.text, _), (.real, .bigint):
            throw ViewStoreError(
                code: .invalidDefinition,
                message: "the value \(value) does not fit a column of PostgreSQL type \(type.sql); declare the column with the value's type")
        }
    }

    private static func writeText(_ text: String, into buffer: inout ByteBuffer) {
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(0, as: Int32.self)
        let written = buffer.writeString(text)
        buffer.setInteger(Int32(written), at: lengthIndex)
    }
}

extension PostgresCell {
    /// The cell as a view value: integers, reals and text as such, booleans as 0/1, NULL as null.
    /// - Throws: ``ViewStoreError`` `.unexpectedValue` for types views cannot hold (such as bytea).
    func viewValue(table: String) throws -> ViewValue {
        guard var bytes else { return .null }
        switch (dataType, format) {
        case (.int8, .binary):
            return .integer(bytes.readInteger(as: Int64.self) ?? 0)
        case (.int4, .binary):
            return .integer(Int64(bytes.readInteger(as: Int32.self) ?? 0))
        case (.int2, .binary):
            return .integer(Int64(bytes.readInteger(as: Int16.self) ?? 0))
        case (.float8, .binary):
            return .real(Double(bitPattern: bytes.readInteger(as: UInt64.self) ?? 0))
        case (.float4, .binary):
            return .real(Double(Float(bitPattern: bytes.readInteger(as: UInt32.self) ?? 0)))
        case (.bool, .binary):
            return .integer(Int64(bytes.readInteger(as: UInt8.self) ?? 0))
        case (.text, _), (.varchar, _), (.name, _), (.bpchar, _), (.json, _):
            return .text(bytes.readString(length: bytes.readableBytes) ?? "")
        case (.jsonb, .binary):
            bytes.moveReaderIndex(forwardBy: 1)
            return .text(bytes.readString(length: bytes.readableBytes) ?? "")
        default:
            if let text = try? decode(String.self) { return .text(text) }
            throw ViewStoreError(
                code: .unexpectedValue,
                message: "column \(columnName) of \(table) holds a value of type \(dataType), which views cannot hold")
        }
    }

    /// The bytes of a `bytea` cell, or `nil` for NULL.
    var byteArray: [UInt8]? {
        bytes.map { Array($0.readableBytesView) }
    }

    /// A text cell (`nil` for NULL).
    var text: String? {
        bytes.map { String(buffer: $0) }
    }

    /// An integer cell of any width (`nil` for NULL).
    var integer: Int64? {
        switch try? viewValue(table: "") {
        case .integer(let value): value
        case .text(let text): Int64(text)
        default: nil
        }
    }
}

extension ColumnArray {
    /// One value bound as its column's type (a key in a row read).
    struct Scalar: PostgresThrowingDynamicTypeEncodable {
        var value: ViewValue
        var type: PostgresColumnType

        var psqlType: PostgresDataType {
            switch type {
            case .text: .text
            case .bigint: .int8
            case .double: .float8
            }
        }

        var psqlFormat: PostgresFormat { .binary }

        func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) throws {
            // The array encoder writes a length before each element; a parameter has its length
            // written by the bindings, so write the element and drop that prefix.
            var element = ByteBuffer()
            try ColumnArray.write(value, as: type, into: &element)
            let length = element.readInteger(as: Int32.self) ?? -1
            if length >= 0 { buffer.writeBuffer(&element) }
        }
    }
}
