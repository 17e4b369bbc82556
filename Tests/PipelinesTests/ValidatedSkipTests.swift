import Testing
@testable import Pipelines

/// The `[*]` walk skips the values it does not need with `skipValidated()`, which only finds a
/// value's end; it must end exactly where reading the value (`validatedValue()`) does.
@Suite struct ValidatedSkipTests {
    static let documents = [
        ScannerFastPathTests.nested,
        #"{"a":"x\"}]\\","b":[{"c":"\\\\"},"\u0022]",[[],{}],-0.5e-3,1E+2,true,false,null],"d":{"e":"é}","f":[""]},"g":0}"#,
        #"[ {"k" : [ 1 , "}" , { "x" : "\\\"[" } ] } , "tail\\" , 12.5 ]"#,
    ]
    static let inserts = [" ", "\n", #"\""#, #"\\"#, "]", "}", "[", "{", "\"", ",", "1", "e", "[1]", #"{"z":"]"}"#, #""\"}""#]

    /// Every value of every document the scanner accepts, among deterministic mutations of a few
    /// documents dense with brackets and escapes inside strings.
    @Test func skippingEndsWhereReadingEnds() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(truncatingIfNeeded: state >> 1)
        }
        var accepted = 0
        for round in 0 ..< 3_000 {
            var document = Array(Self.documents[round % Self.documents.count].utf8)
            for _ in 0 ..< round % 3 {
                document.insert(contentsOf: Array(Self.inserts[next() % Self.inserts.count].utf8), at: next() % (document.count + 1))
            }
            guard ScannerFastPathTests.scans(document) else { continue }
            accepted += 1
            document.withUnsafeBufferPointer { bytes in
                var scanner = JSONScanner(bytes)
                scanner.skipWhitespace()
                checkValue(&scanner, in: bytes)
            }
        }
        #expect(accepted > 500, "only \(accepted) mutated documents were valid")
    }

    /// Checks the value at the scanner's position and every value inside it; leaves the scanner after it.
    private func checkValue(_ scanner: inout JSONScanner, in bytes: UnsafeBufferPointer<UInt8>) {
        var skipped = scanner
        skipped.skipValidated()
        var read = scanner
        _ = read.validatedValue()
        #expect(skipped.position == read.position, "\(String(decoding: bytes, as: UTF8.self)) at \(scanner.position)")
        let opening = bytes[scanner.position]
        guard opening == UInt8(ascii: "{") || opening == UInt8(ascii: "[") else { scanner = read; return }
        scanner.position += 1
        while true {
            scanner.skipWhitespace()
            if bytes[scanner.position] == UInt8(ascii: ",") { scanner.position += 1; scanner.skipWhitespace() }
            if bytes[scanner.position] == UInt8(ascii: "}") || bytes[scanner.position] == UInt8(ascii: "]") { scanner.position += 1; return }
            if opening == UInt8(ascii: "{") {
                _ = try? scanner.string()
                scanner.skipWhitespace()
                scanner.position += 1
                scanner.skipWhitespace()
            }
            checkValue(&scanner, in: bytes)
        }
    }
}
