internal import Foundation
internal import KafkaClient
internal import ProjectorModel

/// The read API's `ETag`s and `If-None-Match`.
///
/// A page (and a 404) is tagged by the view's position: it changes with every commit and every
/// swap, even when the page's rows did not change. A row read by key is tagged by the
/// generation and a digest of the row's stored values instead: a strong validator that changes
/// exactly when the row does, so a client polling one row gets 304 while other rows move. No
/// per-row offset is stored to tag it by: that would add a column write to every row of every
/// batch on the worker's hot path, for a reader's convenience.
enum EntityTag {
    /// `"<generation>-<16 hex digits of the position>"`.
    static func of(_ position: KafkaPosition) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in position.token.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "\"\(position.generation ?? "")-\(hex(hash, digits: 16))\""
    }

    /// `"<generation>-r<32 hex digits>"`: 128-bit FNV-1a of the row's values in a type-exact,
    /// prefix-free encoding (a tag per cell: 0 null, 1 integer, 2 real by its bits, 3 text by its
    /// UTF-8 length and bytes), the same in every process that serves the store.
    static func of(row: [ViewValue], generation: String) -> String {
        var hash: UInt128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d
        let prime: UInt128 = 0x0000_0000_0100_0000_0000_0000_0000_013b
        func add(_ byte: UInt8) { hash = (hash ^ UInt128(byte)) &* prime }
        func add(_ word: UInt64) { for shift in stride(from: 0, to: 64, by: 8) { add(UInt8(truncatingIfNeeded: word >> UInt64(shift))) } }
        for value in row {
            switch value {
            case .null:
                add(0 as UInt8)
            case .integer(let integer):
                add(1 as UInt8)
                add(UInt64(bitPattern: integer))
            case .real(let real):
                add(2 as UInt8)
                add(real.bitPattern)
            case .text(let text):
                add(3 as UInt8)
                add(UInt64(text.utf8.count))
                for byte in text.utf8 { add(byte) }
            }
        }
        return "\"\(generation)-r\(hex(UInt64(truncatingIfNeeded: hash >> 64), digits: 16))\(hex(UInt64(truncatingIfNeeded: hash), digits: 16))\""
    }

    /// Whether `If-None-Match` names `tag` (or is `*`).
    static func matches(_ ifNoneMatch: String, _ tag: String) -> Bool {
        ifNoneMatch.split(separator: ",").contains { candidate in
            let trimmed = candidate.trimmingCharacters(in: .whitespaces)
            return trimmed == "*" || trimmed == tag || trimmed == "W/" + tag
        }
    }

    private static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: digits - text.count) + text
    }
}
