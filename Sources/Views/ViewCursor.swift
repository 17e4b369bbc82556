internal import Foundation
internal import ProjectorModel

/// The opaque cursor of a page: the order it continues and the order column's and key's values
/// of the page's last row, as base64url text.
///
/// Clients pass it back unchanged (`after=`); the layout (`1|col.desc|~|3:abc`: a version, the
/// order, then each value as `~` for NULL or `<UTF-8 length>:<text>`) is not a contract. The
/// values come back as text and are typed again by their columns, so a forged cursor can at worst
/// start a page somewhere else.
struct ViewCursor: Equatable {
    var order: String
    var values: [String?]

    init(order: String, values: [ViewValue]) {
        self.order = order
        self.values = values.map { value in
            switch value {
            case .null: nil
            case .integer(let integer): String(integer)
            case .real(let real): String(real)
            case .text(let text): text
            }
        }
    }

    var text: String {
        var plain = "1|" + order
        for value in values {
            plain += value.map { "|\($0.utf8.count):\($0)" } ?? "|~"
        }
        return Data(plain.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes a cursor made by ``text``.
    /// - Throws: ``ViewStoreError`` `.invalidQuery` when `text` is not one.
    init(text: String) throws {
        let bad = ViewStoreError(code: .invalidQuery, message: "after=: not a cursor of this API; pass the next cursor of a page unchanged, or start again without after=")
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard text.count <= 8192, let data = Data(base64Encoded: base64) else { throw bad }
        let bytes = [UInt8](data)
        let bar = UInt8(ascii: "|")
        guard bytes.starts(with: Array("1|".utf8)) else { throw bad }
        var position = 2
        let orderEnd = bytes[position...].firstIndex(of: bar) ?? bytes.count
        guard orderEnd > position, let order = String(validating: bytes[position..<orderEnd], as: UTF8.self) else { throw bad }
        self.order = order
        position = orderEnd
        var values: [String?] = []
        while position < bytes.count {
            guard bytes[position] == bar, position + 1 < bytes.count else { throw bad }
            position += 1
            if bytes[position] == UInt8(ascii: "~") {
                values.append(nil)
                position += 1
                continue
            }
            guard let colon = bytes[position...].firstIndex(of: UInt8(ascii: ":")),
                  let digits = String(validating: bytes[position..<colon], as: UTF8.self), let length = Int(digits),
                  length >= 0, bytes.count - (colon + 1) >= length,
                  let value = String(validating: bytes[(colon + 1)..<(colon + 1 + length)], as: UTF8.self) else { throw bad }
            values.append(value)
            position = colon + 1 + length
        }
        guard values.count <= 64 else { throw bad }
        self.values = values
    }
}
