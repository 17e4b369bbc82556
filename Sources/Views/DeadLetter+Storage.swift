package import ProjectorModel

/// How `_projector_dead_letters` stores a letter's publication and headers.
extension DeadLetterPublication {
    /// The value of the `published` column.
    package var storedValue: ViewValue {
        switch self {
        case .none: .null
        case .pending: .integer(0)
        case .published: .integer(1)
        }
    }

    /// The publication a `published` column value stands for.
    package init(stored: Int64?) {
        switch stored {
        case nil: self = .none
        case 0: self = .pending
        default: self = .published
        }
    }
}

extension DeadLetterHeader {
    /// The headers as stored in `_projector_dead_letters.headers`: per header a 4-byte big-endian
    /// name length, the name's UTF-8, a 4-byte big-endian value length (`0xFFFFFFFF` for null)
    /// and the value. `nil` for no headers.
    package static func encode(_ headers: [DeadLetterHeader]) -> [UInt8]? {
        guard !headers.isEmpty else { return nil }
        var out: [UInt8] = []
        func append(_ length: UInt32) {
            out.append(contentsOf: [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)])
        }
        for header in headers {
            let name = Array(header.name.utf8)
            append(UInt32(name.count))
            out.append(contentsOf: name)
            if let value = header.value {
                append(UInt32(value.count))
                out.append(contentsOf: value)
            } else {
                append(UInt32.max)
            }
        }
        return out
    }

    /// Decodes ``encode(_:)``'s bytes; a truncated blob gives the headers before the cut.
    package static func decode(_ bytes: [UInt8]?) -> [DeadLetterHeader] {
        guard let bytes else { return [] }
        var headers: [DeadLetterHeader] = []
        var position = 0
        func length() -> UInt32? {
            guard position + 4 <= bytes.count else { return nil }
            defer { position += 4 }
            return bytes[position ..< position + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
        while let nameLength = length(), position + Int(nameLength) <= bytes.count {
            let name = String(decoding: bytes[position ..< position + Int(nameLength)], as: UTF8.self)
            position += Int(nameLength)
            guard let valueLength = length() else { break }
            if valueLength == UInt32.max {
                headers.append(DeadLetterHeader(name: name, value: nil))
                continue
            }
            guard position + Int(valueLength) <= bytes.count else { break }
            headers.append(DeadLetterHeader(name: name, value: Array(bytes[position ..< position + Int(valueLength)])))
            position += Int(valueLength)
        }
        return headers
    }
}
