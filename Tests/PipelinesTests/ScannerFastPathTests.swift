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

    static let nested = #"{"eventType":"E","m":[[1,2],[3],[]],"d":[{"q":1,"q":4},{ "q" : 2 }],"e":[{"k\u0065y":5},{"key":6}],"t":[{"v":[10,20]},{"v":[30]}],"w":[ 1 , null , 2.5 ],"s":["x"]}"#

    /// `[*]` walks: nested wildcards, an index after a wildcard, duplicate and escaped member
    /// names, whitespace, nulls.
    @Test(arguments: [
        ("sum($.m[*][*])", "6"), ("count($.m[*])", "3"), ("count($.m[*][*])", "3"), ("sum($.d[*].q)", "6"),
        ("sum($.e[*].key)", "11"), ("sum($.t[*].v[1])", "20"), ("count($.t[*].v[*])", "3"), ("sum($.w[*])", "3.5"),
        ("count($.w[*])", "2"), ("sum($.t[*].missing)", "0"),
    ])
    func wildcardWalks(_ expression: String, _ expected: String) throws {
        #expect(try evaluate(expression, event: Self.nested) == .stored(.text(expected)), "\(expression)")
    }

    @Test func sumOfTextIsATypeMismatch() throws {
        #expect(try evaluate("sum($.s[*])", event: Self.nested) == .failed(.typeMismatch))
    }
}
