internal import Foundation
package import ProjectorModel

/// Builds a view digest: the 128-bit sum of a hash of each row's canonical encoding.
///
/// The encoding tags each cell with its storage class (0 null, 1 integer, 2 real, 3 text,
/// 4 blob) and writes fixed-width little-endian numbers and length-prefixed bytes, so it is
/// prefix-free and type exact: integer 1, real 1.0 and text '1' hash differently. Summing is
/// commutative, so the digest does not depend on row order.
///
/// Reals are compared to 12 significant digits (``canonicalReal(_:)``): a sum fed by several
/// partitions is added in the order the partitions were read, which differs between a live
/// worker and its rebuild, so their last bits may differ while the views agree.
package struct RowDigest {
    private(set) var rowCount = 0
    private var high: UInt64 = 0
    private var low: UInt64 = 0
    private var buffer: [UInt8] = []

    package init() {
        buffer.reserveCapacity(256)
    }

    package var digest: ViewDigest { ViewDigest(rowCount: rowCount, high: high, low: low) }

    package mutating func appendNull() {
        buffer.append(0)
    }

    package mutating func append(integer: Int64) {
        buffer.append(1)
        appendLittleEndian(UInt64(bitPattern: integer))
    }

    package mutating func append(real: Double) {
        buffer.append(2)
        appendLittleEndian(canonicalReal(real).bitPattern)
    }

    package mutating func append(text: UnsafeRawBufferPointer) {
        buffer.append(3)
        appendLittleEndian(UInt64(text.count))
        buffer.append(contentsOf: text)
    }

    package mutating func append(blob: UnsafeRawBufferPointer) {
        buffer.append(4)
        appendLittleEndian(UInt64(blob.count))
        buffer.append(contentsOf: blob)
    }

    package mutating func append(_ value: ViewValue) {
        switch value {
        case .null: appendNull()
        case .integer(let integer): append(integer: integer)
        case .real(let real): append(real: real)
        case .text(var text): text.withUTF8 { append(text: UnsafeRawBufferPointer($0)) }
        }
    }

    /// Ends the current row: adds its hash to the sum.
    package mutating func endRow() {
        let (h1, h2) = buffer.withUnsafeBytes { murmurHash3x64_128($0) }
        let (sum, carry) = low.addingReportingOverflow(h1)
        low = sum
        high = high &+ h2 &+ (carry ? 1 : 0)
        rowCount += 1
        buffer.removeAll(keepingCapacity: true)
    }

    private mutating func appendLittleEndian(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }
}

/// MurmurHash3 x64 128-bit (Austin Appleby, public domain), seed 0; reads little-endian on every
/// platform so digests compare across machines.
func murmurHash3x64_128(_ data: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
    let c1: UInt64 = 0x87c3_7b91_1142_53d5
    let c2: UInt64 = 0x4cf5_ad43_2745_937f
    var h1: UInt64 = 0
    var h2: UInt64 = 0
    let length = data.count
    let blocks = length / 16

    @inline(__always) func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
    @inline(__always) func fmix(_ k: UInt64) -> UInt64 {
        var k = k
        k ^= k >> 33
        k = k &* 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k = k &* 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }

    for block in 0..<blocks {
        var k1 = UInt64(littleEndian: data.loadUnaligned(fromByteOffset: block * 16, as: UInt64.self))
        var k2 = UInt64(littleEndian: data.loadUnaligned(fromByteOffset: block * 16 + 8, as: UInt64.self))
        k1 = k1 &* c1; k1 = rotl(k1, 31); k1 = k1 &* c2; h1 ^= k1
        h1 = rotl(h1, 27); h1 = h1 &+ h2; h1 = h1 &* 5 &+ 0x52dc_e729
        k2 = k2 &* c2; k2 = rotl(k2, 33); k2 = k2 &* c1; h2 ^= k2
        h2 = rotl(h2, 31); h2 = h2 &+ h1; h2 = h2 &* 5 &+ 0x3849_5ab5
    }

    let tail = blocks * 16
    let remaining = length & 15
    var k1: UInt64 = 0
    var k2: UInt64 = 0
    if remaining > 8 {
        for i in stride(from: remaining - 1, through: 8, by: -1) {
            k2 ^= UInt64(data[tail + i]) << UInt64((i - 8) * 8)
        }
        k2 = k2 &* c2; k2 = rotl(k2, 33); k2 = k2 &* c1; h2 ^= k2
    }
    if remaining > 0 {
        for i in stride(from: min(remaining, 8) - 1, through: 0, by: -1) {
            k1 ^= UInt64(data[tail + i]) << UInt64(i * 8)
        }
        k1 = k1 &* c1; k1 = rotl(k1, 31); k1 = k1 &* c2; h1 ^= k1
    }

    h1 ^= UInt64(length)
    h2 ^= UInt64(length)
    h1 = h1 &+ h2
    h2 = h2 &+ h1
    h1 = fmix(h1)
    h2 = fmix(h2)
    h1 = h1 &+ h2
    h2 = h2 &+ h1
    return (h1, h2)
}

/// `value` rounded to 12 significant digits (and -0 as 0), the precision at which digests and
/// `differingKeys` compare reals.
package func canonicalReal(_ value: Double) -> Double {
    guard value.isFinite else { return value }
    if value == 0 { return 0 }
    return Double(String(format: "%.12g", value)) ?? value
}

extension ViewValue {
    /// The value as digests compare it: reals to 12 significant digits.
    package var canonical: ViewValue {
        if case .real(let real) = self { return .real(canonicalReal(real)) }
        return self
    }
}
