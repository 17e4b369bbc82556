import Foundation
import Testing
@testable import Pipelines

/// The scanner reads sixteen (or eight) bytes at a time only where that many remain: a message is
/// placed so that its last byte is the last readable byte before an unmapped page, so a load past
/// its end crashes the test instead of reading a neighbour's bytes.
@Suite struct ScannerBufferEndTests {
    /// Texts of every length from 0 to 33 (plain, ending in an escape, in two-byte UTF-8) as the
    /// last value, member name or skipped element of a message: accepted with the same text, and
    /// rejected, without a read past the end, when the message stops inside them.
    @Test func stringsEndingAtTheBufferEnd() throws {
        for length in 0 ... 33 {
            for text in Self.texts(length) {
                let decoded = try #require(try JSONSerialization.jsonObject(with: Data(("\"" + text + "\"").utf8), options: [.fragmentsAllowed]) as? String)
                for (json, reads) in [("\"" + text + "\"", false), (#"{"a":""# + text + "\"}", true),
                                      (#"{"b":1,""# + text + #"":2}"#, false), (#"["x",""# + text + "\"]", false)] {
                    let bytes = Array(json.utf8)
                    #expect(Self.scan(bytes) == (reads ? decoded : ""), "\(json)")
                    // Cut anywhere from the text's opening quote on: inside the text, after its closing quote.
                    let quote = bytes.count - text.utf8.count - (reads || json.hasPrefix("[") ? 3 : json.hasPrefix("{") ? 5 : 2)
                    for end in max(quote, 0) ..< bytes.count {
                        #expect(Self.scan(Array(bytes[..<end])) == nil, "\(json) cut at \(end)")
                    }
                }
                // A validated document skipped and read to its end (the `[*]` walk's paths).
                Self.guarded(Array(("\"" + text + "\"").utf8)) { bytes in
                    var skipped = JSONScanner(bytes)
                    skipped.skipValidated()
                    var read = JSONScanner(bytes)
                    #expect(read.validatedValue()?.kind == .string)
                    #expect(skipped.position == bytes.count && read.position == bytes.count, "\(text)")
                }
            }
        }
    }

    /// Skipped compact objects of scalars (`JSONScanner.flatObjectEnd`) whose last string, number or
    /// literal runs to the message's end: accepted whole, rejected without a read past the end
    /// when the message stops anywhere inside the object.
    @Test func skippedFlatObjectsEndingAtTheBufferEnd() {
        for length in 0 ... 33 {
            for value in ["\"" + String(repeating: "k", count: length) + "\"", "1" + String(repeating: "0", count: length) + ".5e-3", "true"] {
                for (prefix, suffix) in [(#"{"a":"x","b":"#, "}"), (#"{"a":"x","b":["#, "]}")] {
                    let json = prefix + #"{"n":1,"k":"# + value + "}" + suffix
                    let bytes = Array(json.utf8)
                    #expect(Self.scan(bytes) == "x", "\(json)")
                    for end in prefix.utf8.count ..< bytes.count {
                        #expect(Self.scan(Array(bytes[..<end])) == nil, "\(json) cut at \(end)")
                    }
                }
            }
        }
    }

    /// `length` bytes of text: plain, ending in an escape, and in two-byte UTF-8 (for even lengths).
    static func texts(_ length: Int) -> [String] {
        var texts = [String(repeating: "k", count: length)]
        if length >= 2 { texts.append(String(repeating: "k", count: length - 2) + #"\n"#) }
        if length % 2 == 0 { texts.append(String(repeating: "é", count: length / 2)) }
        return texts
    }

    /// `$.a` of the document `json` (a string; "" when it is absent or not a string), or nil when the scanner
    /// rejects it, scanned from a guarded buffer.
    static func scan(_ json: [UInt8]) -> String? {
        var trie = PathTrie()
        _ = trie.insert(try! JSONPath.parse("$.a").get())
        _ = trie.finish()
        return guarded(json) { bytes -> String? in
            let slots = UnsafeMutableBufferPointer<Slot>.allocate(capacity: trie.slotCount)
            defer { slots.deallocate() }
            var scanner = JSONScanner(bytes)
            guard (try? scanner.scanDocument(trie: trie, slots: slots)) != nil else { return nil }
            let slot = slots[0]
            guard slot.kind == .string else { return "" }
            let body = UnsafeBufferPointer(rebasing: bytes[slot.start ..< slot.end])
            return slot.extra == 0 ? String(decoding: body, as: UTF8.self) : JSONScanner.unescape(body)
        }
    }

    /// Calls `body` with `bytes` copied to the end of a page that an unmapped page follows.
    static func guarded<R>(_ bytes: [UInt8], _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        precondition(bytes.count <= page)
        guard let memory = mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              memory != MAP_FAILED else { fatalError("mmap failed") }
        defer { munmap(memory, 2 * page) }
        precondition(mprotect(memory + page, page, PROT_NONE) == 0)
        let start = (memory + page - bytes.count).assumingMemoryBound(to: UInt8.self)
        bytes.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { start.update(from: base, count: bytes.count) }
        }
        return body(UnsafeBufferPointer(start: start, count: bytes.count))
    }
}
