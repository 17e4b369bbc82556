import Foundation
import Testing
@testable import Pipelines

/// The in-place scanner agrees with Foundation's JSONSerialization on the paths it reads.
@Suite struct JSONDecodingTests {
    /// What the scanner yields at `path`, as a Foundation value (NSNull for null, nil for missing).
    static func scanned(_ json: String, _ paths: [String]) throws -> [Any?]? {
        var trie = PathTrie()
        let parsed = try paths.map { path -> JSONPath in try JSONPath.parse(path).get() }
        let raw = parsed.map { trie.insert($0) }
        let map = trie.finish()
        let bytes = Array(json.utf8)
        return try bytes.withUnsafeBufferPointer { buffer -> [Any?]? in
            let slots = UnsafeMutableBufferPointer<Slot>.allocate(capacity: max(trie.slotCount, 1))
            defer { slots.deallocate() }
            var scanner = JSONScanner(buffer)
            do { _ = try scanner.scanDocument(trie: trie, slots: slots) } catch { return nil }
            let context = EvaluationContext(bytes: buffer, slots: slots, access: [], key: .null, topic: "", partition: 0, offset: 0, timestamp: nil)
            return try zip(raw, parsed).map { (slot, path) -> Any? in
                let s = slots[map[slot]]
                if s.kind == .missing { return nil }
                switch try Evaluator.value(of: s, context, path: path) {
                case .null: return NSNull()
                case .integer(let v): return NSNumber(value: v)
                case .real(let v): return NSNumber(value: v)
                case .boolean(let v): return NSNumber(value: v)
                case .text(let s): return s
                case .string: return try Evaluator.value(of: s, context, path: path).materialized
                case .composite(let span, _):
                    return try JSONSerialization.jsonObject(with: Data(span.buffer), options: [.fragmentsAllowed])
                }
            }
        }
    }

    /// What Foundation yields at `path`.
    static func foundation(_ json: String, _ paths: [String]) -> [Any?]? {
        guard let root = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) else { return nil }
        return paths.map { path in
            var current: Any? = root
            for component in try! JSONPath.parse(path).get().components {
                switch component {
                case .member(let name): current = (current as? [String: Any])?[name]
                case .index(let i):
                    let array = current as? [Any]
                    current = array.flatMap { i < $0.count ? $0[i] : nil }
                case .wildcard: current = nil
                }
            }
            return current
        }
    }

    static func same(_ a: Any?, _ b: Any?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let x?, let y?): return (x as! NSObject).isEqual(y as! NSObject)
        default: return false
        }
    }

    static let documents: [(String, [String])] = [
        (#"{"a":"tab\tnew\nquote\"slash\/back\\u:\u00e9\u4e2d"}"#, ["$.a"]),
        (#"{"emoji":"\ud83d\ude00 and 😀","bmp":"\u263a"}"#, ["$.emoji", "$.bmp"]),
        (#"{"n":[1e3,-0,1E+2,0.1,-2.5e-3,123456789012345678,-9223372036854775808,1.7976931348623157e308,5e-324]}"#,
         ["$.n[0]", "$.n[1]", "$.n[2]", "$.n[3]", "$.n[4]", "$.n[5]", "$.n[6]", "$.n[7]", "$.n[8]"]),
        (#"{"a":1,"a":2,"b":{"x":1},"b":{"y":2}}"#, ["$.a", "$.b.x", "$.b.y", "$.b"]),
        (#"  {"sp" : [ 1 , { "k" : null } , true , false ] }  "#, ["$.sp[0]", "$.sp[1].k", "$.sp[2]", "$.sp[3]", "$.sp[4]", "$.sp"]),
        (#"{"esc\u0061ped":"key with escape","plain":"x"}"#, ["$.escaped", "$.plain"]),
        (#"{"deep":"# + String(repeating: "[", count: 100) + "1" + String(repeating: "]", count: 100) + #","after":"yes"}"#, ["$.after", "$.deep[0][0][0]"]),
        (#"{"o":{"p":{"q":{"r":"s"}}},"skip":{"big":[1,2,{"x":[3,"]}"]}]}}"#, ["$.o.p.q.r", "$.o.p", "$.skip.big[2].x[1]"]),
        (#"{"empty":{},"arr":[],"str":""}"#, ["$.empty", "$.arr", "$.str", "$.str.x", "$.arr[0]"]),
        (#"{"ctl":"\u0000\u001f","surrogate":"\udbff\udfff"}"#, ["$.ctl", "$.surrogate"]),
    ]

    @Test(arguments: documents)
    func agreesWithFoundation(_ json: String, _ paths: [String]) throws {
        let mine = try #require(try Self.scanned(json, paths), "scanner rejected \(json)")
        let theirs = try #require(Self.foundation(json, paths), "Foundation rejected \(json)")
        for (i, path) in paths.enumerated() {
            #expect(Self.same(mine[i], theirs[i]), "\(path): \(String(describing: mine[i])) vs \(String(describing: theirs[i]))")
        }
    }

    static let malformed: [String] = [
        "", " ", "{", "}", #"{"a":}"#, "[1,]", #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":"\x"}"#, #"{"a":tru}"#,
        "{\"a\":\"\u{01}\"}", "{} x", #"{"a":-}"#, #"{"a":1e}"#, "{'a':1}", #"{"a" 1}"#, #"{"a":1,}"#, #"{"a":"\u12"}"#,
        #"{"a":[1 2]}"#, #"{"a":nul}"#, #"{"a":"unterminated}"#, "{\"a\":+1}", #"{a:1}"#,
    ]

    @Test(arguments: malformed)
    func rejectsWhatFoundationRejects(_ json: String) throws {
        #expect(try Self.scanned(json, ["$.a"]) == nil, "accepted \(json)")
        // The scanner follows RFC 8259; Foundation on Linux also accepts trailing commas.
        let lenientInFoundation = ["[1,]", #"{"a":1,}"#]
        #expect((Self.foundation(json, ["$.a"]) == nil) != lenientInFoundation.contains(json), "Foundation and the scanner disagree on \(json)")
    }

    /// Invalid UTF-8 is an error wherever it sits in a string: in the word that holds the closing
    /// quote (the scanner once skipped those bytes unchecked when more of the message followed),
    /// after a whole word, in a member no path reads, or in a member name.
    @Test func rejectsInvalidUTF8InStringsOfEveryLength() throws {
        func scans(_ parts: [[UInt8]]) -> Bool {
            var trie = PathTrie()
            _ = trie.insert(try! JSONPath.parse("$.a").get())
            _ = trie.finish()
            let bytes = parts.flatMap { $0 }
            return bytes.withUnsafeBufferPointer { buffer in
                let slots = UnsafeMutableBufferPointer<Slot>.allocate(capacity: trie.slotCount)
                defer { slots.deallocate() }
                var scanner = JSONScanner(buffer)
                return (try? scanner.scanDocument(trie: trie, slots: slots)) != nil
            }
        }
        let invalid: [[UInt8]] = [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0x80]]
        for bad in invalid {
            for text in [bad, Array("12345678".utf8) + bad, bad + Array("x".utf8)] {
                #expect(!scans([Array(#"{"a":""#.utf8), text, Array(#"","z":12345678}"#.utf8)]), "accepted \(text) in a value read")
                #expect(!scans([Array(#"{"b":""#.utf8), text, Array(#"","a":12345678}"#.utf8)]), "accepted \(text) in a value skipped")
                #expect(!scans([Array(#"{""#.utf8), text, Array(#"":12345678}"#.utf8)]), "accepted \(text) in a member name")
            }
        }
        #expect(scans([Array(#"{"a":"é","b":"中","é":"😀"}"#.utf8)]))
    }

    @Test func rejectsNestingBeyondTheLimit() throws {
        let json = #"{"a":"# + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}"
        #expect(try Self.scanned(json, ["$.b"]) == nil)
    }
}
