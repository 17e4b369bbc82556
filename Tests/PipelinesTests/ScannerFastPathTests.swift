import Foundation
import Testing
@testable import Pipelines
import ProjectorModel

/// The scanner's word-at-a-time string skipping and the exact decimal fast path agree with the
/// byte-by-byte definitions they replace.
@Suite struct ScannerFastPathTests {
    /// A `"`, a `\` escape or a control byte at every offset of strings longer than a word is found
    /// exactly where Foundation finds it.
    @Test func stopBytesAtEveryOffset() throws {
        for length in [7, 8, 9, 15, 16, 17, 31, 40] {
            for offset in 0..<length {
                let prefix = String(repeating: "a", count: offset)
                let suffix = String(repeating: "é", count: (length - offset) / 2)
                for (inner, decoded) in [(#"\""#, "\""), (#"\\"#, "\\"), (#"\u0041"#, "A"), (#"\n"#, "\n")] {
                    let json = #"{"a":""# + prefix + inner + suffix + #"","b":1}"#
                    let mine = try #require(try JSONDecodingTests.scanned(json, ["$.a", "$.b"]))
                    #expect(mine[0] as? String == prefix + decoded + suffix, "\(json)")
                    #expect((mine[1] as? NSNumber)?.intValue == 1)
                }
                let control = "{\"a\":\"" + prefix + "\u{01}" + suffix + "\"}"
                #expect(try JSONDecodingTests.scanned(control, ["$.a"]) == nil, "accepted a raw control byte at \(offset)")
                let unterminated = #"{"a":""# + prefix + suffix
                #expect(try JSONDecodingTests.scanned(unterminated, ["$.a"]) == nil)
            }
        }
    }

    /// UTF-8 is checked where a byte of 0x80 or more stops the word-at-a-time run, at any offset:
    /// well-formed sequences decode, broken ones are rejected, in values and in member names;
    /// names of every length up to three words are told apart by their last byte; and
    /// every proper prefix of a document (a string or a name running into the message's end,
    /// where the last word is read short) is rejected.
    @Test func nonASCIIAndMessageEndsAtEveryOffset() throws {
        for length in [0, 1, 6, 7, 8, 9, 15, 16, 17] {
            let prefix = String(repeating: "k", count: length)
            for text in ["é", "中", "😀", "é中😀é"] {
                let json = #"{"a":""# + prefix + text + prefix + #"",""# + prefix + text + #"":1,""# + prefix + #"y":3,""# + prefix + #"z":2}"#
                let mine = try #require(try JSONDecodingTests.scanned(json, ["$.a", "$." + prefix + "z"]), "\(json)")
                #expect(mine[0] as? String == prefix + text + prefix)
                #expect((mine[1] as? NSNumber)?.intValue == 2)
            }
            for bad: [UInt8] in [[0xC3], [0xE4, 0xB8], [0xF0, 0x9F, 0x98], [0x80], [0xC0, 0xAF], [0xED, 0xB0, 0x80], [0xF4, 0x90, 0x80, 0x80]] {
                let k = Array(prefix.utf8)
                for document in [Array(#"{"a":""#.utf8) + k + bad + k + Array(#""}"#.utf8), Array(#"{"b":""#.utf8) + k + bad + Array(#""}"#.utf8),
                                 Array(#"{""#.utf8) + k + bad + Array(#"":1}"#.utf8)] {
                    #expect(!Self.scans(document), "accepted \(document)")
                }
            }
            let document = Array((#"{"a":""# + prefix + #"",""# + prefix + #"":[true,false,null,-1.5e3,{"x":""# + prefix + #"é"}]}"#).utf8)
            #expect(Self.scans(document))
            for end in 0 ..< document.count {
                #expect(!Self.scans(Array(document[..<end])), "accepted \(String(decoding: document[..<end], as: UTF8.self))")
            }
        }
    }

    /// Duplicate members: the last one wins, for objects with paths below them too. What an
    /// earlier `data`, `c` or `f` set and the last one lacks is missing again, at every depth.
    @Test func duplicateObjectMembersForgetWhatEarlierOnesSet() throws {
        let json = #"{"data":{"a":1,"b":2,"c":{"d":3}},"e":"x","f":{"g":1},"data":{"a":4},"f":{},"data":{"b":5,"c":{"d":6},"c":{}}}"#
        let got = try #require(try JSONDecodingTests.scanned(json, ["$.data.a", "$.data.b", "$.data.c.d", "$.e", "$.f.g"]))
        #expect(got[0] == nil)
        #expect((got[1] as? NSNumber)?.intValue == 5)
        #expect(got[2] == nil)
        #expect(got[3] as? String == "x")
        #expect(got[4] == nil)
        let kept = try #require(try JSONDecodingTests.scanned(#"{"data":{"c":{"d":3}},"data":{"c":{"d":7}}}"#, ["$.data.c.d"]))
        #expect((kept[0] as? NSNumber)?.intValue == 7)
    }

    /// `scanDocument` clears the slots with zero bytes: they must read as `Slot.missing`.
    @Test func zeroBytesAreAMissingSlot() {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<Slot>.stride, alignment: MemoryLayout<Slot>.alignment)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<Slot>.stride)
        let slot = raw.load(as: Slot.self)
        let missing = Slot.missing
        #expect(slot.kind == missing.kind && slot.start == missing.start && slot.end == missing.end && slot.extra == missing.extra)
    }

    /// Skipped compact objects of scalars (`JSONScanner.flatObjectEnd`, as a skipped member's value,
    /// an element of an array a path enters, and inside skipped arrays up to the nesting limit)
    /// accept and reject exactly what the token-by-token `skipValue` does. The reference is the same
    /// document with a space after the object's `{`, where `flatObjectEnd` gives up at once: after
    /// every deletion, cut and replacement of one byte of the object (by whitespace, structure,
    /// escapes, digits, letters, a control byte, UTF-8), both give the same slots or the same error
    /// message at the same offset (past the space, one byte further).
    @Test func skippedFlatObjectsAgreeWithTheTokenPath() throws {
        let objects = [#"{"sku":"SKU-RED","quantity":1,"price":12.34}"#, #"{"a":true,"b":false,"c":null,"d":-0.5e+3,"e":"ok"}"#,
                       #"{"long name of more than sixteen bytes":"and a value of more than sixteen bytes","n":0}"#, "{}"]
        let replacements: [UInt8] = Array(#" "\{}[],:0-.eEx"#.utf8) + [0x01, 0x0A, 0xC3, 0xE9]
        for object in objects.map({ Array($0.utf8) }) {
            var variants = [object]
            for i in 1 ..< object.count {
                variants.append(Array(object[..<i]))
                variants.append(Array(object[..<i] + object[(i + 1)...]))
                for byte in replacements where byte != object[i] {
                    var replaced = object
                    replaced[i] = byte
                    variants.append(replaced)
                }
            }
            for variant in variants {
                let reference = [variant[0], 0x20] + variant.dropFirst()
                for (prefix, suffix, paths) in Self.flatObjectContexts {
                    let start = prefix.utf8.count
                    let fast = Self.outcome(Array(prefix.utf8) + variant + Array(suffix.utf8), paths)
                    var slow = Self.outcome(Array(prefix.utf8) + reference + Array(suffix.utf8), paths)
                    if slow.offset > start { slow.offset -= 1 }
                    #expect(fast.text == slow.text && fast.offset == slow.offset,
                            "\(String(decoding: variant, as: UTF8.self)) after \(prefix.prefix(20)): \(fast) against \(slow)")
                }
            }
        }
    }

    /// Where `skippedFlatObjectsAgreeWithTheTokenPath` puts an object (before it, after it, the paths
    /// read): a skipped member's value, an element of an array a path enters, and inside skipped
    /// arrays with its members at depths 511, 512 (the limit) and 513, and the object itself at 513.
    static let flatObjectContexts: [(String, String, [String])] = [
        (#"{"a":1,"b":"#, #","c":2}"#, ["$.a", "$.c"]),
        (#"{"a":[0,"#, #",3],"c":2}"#, ["$.a[0]", "$.a[2]", "$.c"]),
        (String(repeating: "[", count: 509) + #"{"x":"#, "}" + String(repeating: "]", count: 509), ["$.y"]),
        (String(repeating: "[", count: 511), String(repeating: "]", count: 511), ["$.y"]),
        (String(repeating: "[", count: 512), String(repeating: "]", count: 512), ["$.y"]),
        (String(repeating: "[", count: 513), String(repeating: "]", count: 513), ["$.y"]),
    ]

    /// The slots the scanner fills for `paths` (their kinds and extents past the object, which the
    /// reference shifts), or its error message, with the error's offset (-1 when accepted).
    static func outcome(_ bytes: [UInt8], _ paths: [String]) -> (text: String, offset: Int) {
        var trie = PathTrie()
        let raw = paths.map { trie.insert(try! JSONPath.parse($0).get()) }
        let map = trie.finish()
        return bytes.withUnsafeBufferPointer { buffer in
            let slots = UnsafeMutableBufferPointer<Slot>.allocate(capacity: max(trie.slotCount, 1))
            defer { slots.deallocate() }
            var scanner = JSONScanner(buffer)
            do throws(JSONSyntaxError) {
                _ = try scanner.scanDocument(trie: trie, slots: slots)
                let texts = raw.map { (slot: Int) -> String in
                    let s = slots[map[slot]]
                    return "\(s.kind.rawValue):" + String(decoding: buffer[s.start ..< s.end], as: UTF8.self) + "/\(s.extra)"
                }
                return (texts.joined(separator: " "), -1)
            } catch {
                return (error.message, error.offset)
            }
        }
    }

    /// Whether the scanner accepts `bytes` (reading `$.a`), from a buffer of exactly that size.
    static func scans(_ bytes: [UInt8]) -> Bool {
        var trie = PathTrie()
        _ = trie.insert(try! JSONPath.parse("$.a").get())
        _ = trie.finish()
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        defer { buffer.deallocate() }
        _ = buffer.initialize(from: bytes)
        let slots = UnsafeMutableBufferPointer<Slot>.allocate(capacity: trie.slotCount)
        defer { slots.deallocate() }
        var scanner = JSONScanner(UnsafeBufferPointer(start: buffer.baseAddress, count: bytes.count))
        return (try? scanner.scanDocument(trie: trie, slots: slots)) != nil
    }

    /// Plain decimals take the fast path and equal `strtod` to the bit; other shapes fall back.
    @Test func exactDecimalsEqualStrtod() {
        var generator = SystemRandomNumberGenerator()
        var texts = ["0.0", "-0.0", "0.1", "0.3", "123.45", "-9.99", "999999999999.999", "0.00000000000001", "1.5"]
        for _ in 0..<20_000 {
            let whole = UInt64.random(in: 0..<10_000_000, using: &generator)
            let fractionDigits = Int.random(in: 1...8, using: &generator)
            let fraction = UInt64.random(in: 0..<UInt64(pow(10.0, Double(fractionDigits))), using: &generator)
            let padded = String(repeating: "0", count: fractionDigits - String(fraction).count) + String(fraction)
            texts.append((Bool.random(using: &generator) ? "-" : "") + "\(whole).\(padded)")
        }
        for text in texts {
            let bytes = Array(text.utf8)
            let fast = bytes.withUnsafeBufferPointer { Evaluator.exactDecimal($0) }
            let expected = strtod(text, nil)
            #expect(fast?.bitPattern == expected.bitPattern, "\(text): \(String(describing: fast)) vs \(expected)")
        }
        for text in ["1e5", "12345678901234567.5", "1", "-12", "0.12345678901234567"] {
            #expect(Array(text.utf8).withUnsafeBufferPointer { Evaluator.exactDecimal($0) } == nil, "\(text) took the fast path")
        }
    }

    static let nested = #"{"eventType":"E","m":[[1,2],[3],[]],"d":[{"q":1,"q":4},{ "q" : 2 }],"e":[{"k\u0065y":5},{"key":6}],"t":[{"v":[10,20]},{"v":[30]}],"w":[ 1 , null , 2.5 ],"s":["x"],"u":[{"skip":{"q":9},"q":1,"x":[{"q":5}]},{"q":2,"q":3},7,[{"q":8}]],"n":[{"a":{"b":1},"a":{"b":2}},{"a":{"c":1}},{"a":5}]}"#

    /// `[*]` walks: nested wildcards, an index after a wildcard, duplicate and escaped member
    /// names (the last duplicate wins, a leaf or an object walked further), containers skipped
    /// on the way, elements of another shape, whitespace, nulls.
    @Test(arguments: [
        ("sum($.m[*][*])", "6"), ("count($.m[*])", "3"), ("count($.m[*][*])", "3"), ("sum($.d[*].q)", "6"),
        ("sum($.e[*].key)", "11"), ("sum($.t[*].v[1])", "20"), ("count($.t[*].v[*])", "3"), ("sum($.w[*])", "3.5"),
        ("count($.w[*])", "2"), ("sum($.t[*].missing)", "0"), ("sum($.u[*].q)", "4"), ("count($.u[*])", "4"),
        ("sum($.n[*].a.b)", "2"), ("count($.n[*].a)", "3"), ("sum($.u[*].x[*].q)", "5"), ("sum($.u[*][0].q)", "8"),
    ])
    func wildcardWalks(_ expression: String, _ expected: String) throws {
        #expect(try evaluate(expression, event: Self.nested) == .stored(.text(expected)), "\(expression)")
    }

    @Test func sumOfTextIsATypeMismatch() throws {
        #expect(try evaluate("sum($.s[*])", event: Self.nested) == .failed(.typeMismatch))
    }
}
