import Foundation
import ProjectorModel

/// JSON numbers read from the message bytes, only when an expression uses them.
extension Evaluator {
    /// The number `text` (validated by the scanner): an exact 64-bit integer when `integral`, else a double.
    static func number(_ text: UnsafeBufferPointer<UInt8>, integral: Bool, path: JSONPath) throws(EventFailure) -> Value {
        if integral {
            var negative = false
            var i = 0
            if text[0] == UInt8(ascii: "-") { negative = true; i = 1 }
            var v: Int64 = 0
            while i < text.count {
                let digit = Int64(text[i] - 0x30)
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
                if o1 || o2 { throw EventFailure(code: .overflow, message: "`\(path)`: the integer \(String(decoding: text, as: UTF8.self)) does not fit in 64 bits") }
                v = s
                i += 1
            }
            return .integer(v)
        }
        if let exact = exactDecimal(text) { return .real(exact) }
        let parsed: Double = withUnsafeTemporaryAllocation(of: CChar.self, capacity: text.count + 1) { buffer in
            for i in 0..<text.count { buffer[i] = CChar(bitPattern: text[i]) }
            buffer[text.count] = 0
            return strtod(buffer.baseAddress!, nil)
        }
        guard parsed.isFinite else { throw EventFailure(code: .overflow, message: "`\(path)`: the number \(String(decoding: text, as: UTF8.self)) is out of range") }
        return .real(parsed)
    }

    /// `-?digits.digits` with at most 15 significant digits, the common shape of amounts:
    /// the digits and the power of ten are exact doubles, so one division is correctly rounded
    /// (Clinger's fast path) and equals `strtod`. Anything else returns nil.
    @inline(__always)
    static func exactDecimal(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        var i = 0
        var negative = false
        if text[0] == UInt8(ascii: "-") { negative = true; i = 1 }
        var mantissa: Int64 = 0
        var digits = 0
        var fraction = -1
        while i < text.count {
            let c = text[i]
            if c == UInt8(ascii: "."), fraction < 0 {
                fraction = 0
            } else if c >= 0x30 && c <= 0x39 {
                mantissa = mantissa &* 10 &+ Int64(c &- 0x30)
                digits += 1
                if fraction >= 0 { fraction += 1 }
            } else {
                return nil
            }
            i += 1
        }
        guard digits <= 15, fraction >= 0 else { return nil }
        let value = Double(mantissa) / powersOfTen[fraction]
        return negative ? -value : value
    }

    /// 1e0 ... 1e15, built by exact multiplication.
    private static let powersOfTen: [Double] = (0...15).reduce(into: []) { powers, n in powers.append(n == 0 ? 1 : powers[n - 1] * 10) }
}
