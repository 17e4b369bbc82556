// What a simdjson-style stage 1 costs in Swift: classifying the bytes of the demo `orders` events
// 64 at a time into bit masks (one bit a byte), counted by callgrind (`run`). Swift has no movemask:
// each 16-byte compare result is gathered into 16 bits by one of the variants below.

typealias Bytes16 = SIMD16<UInt8>

/// The sign bits of a compare result as 16 bits: the two 64-bit halves masked and multiplied, so
/// each lane's bit lands in the top byte (`(x & 0x80…) * 0x0002_0408_1020_4081 >> 56`).
@inline(__always) func bitsByMultiply(_ m: SIMDMask<SIMD16<Int8>>) -> UInt64 {
    let halves = unsafeBitCast(m, to: SIMD2<UInt64>.self)
    let gather: UInt64 = 0x0002_0408_1020_4081
    let low = (halves[0] & 0x8080_8080_8080_8080) &* gather
    let high = (halves[1] & 0x8080_8080_8080_8080) &* gather
    return (low >> 56) | ((high >> 48) & 0xFF00)
}

/// The same by weighting each lane with its bit and summing each half (`psadbw`).
@inline(__always) func bitsBySum(_ m: SIMDMask<SIMD16<Int8>>) -> UInt64 {
    let weights = Bytes16(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128)
    let weighted = unsafeBitCast(m, to: Bytes16.self) & weights
    return UInt64(weighted.lowHalf.wrappedSum()) | UInt64(weighted.highHalf.wrappedSum()) << 8
}

/// The least a string scan needs: `"` and "stop" (`\`, control, 0x80 and above).
@inline(never) func twoMasksMultiply(_ p: UnsafeRawPointer) -> (UInt64, UInt64) {
    var quotes: UInt64 = 0, stops: UInt64 = 0
    for i in 0 ..< 4 {
        let v = p.loadUnaligned(fromByteOffset: i * 16, as: Bytes16.self)
        quotes |= bitsByMultiply(v .== Bytes16(repeating: 0x22)) << UInt64(i * 16)
        let stop = (v .== Bytes16(repeating: 0x5C)) .| (v .< Bytes16(repeating: 0x20)) .| (v .>= Bytes16(repeating: 0x80))
        stops |= bitsByMultiply(stop) << UInt64(i * 16)
    }
    return (quotes, stops)
}

@inline(never) func twoMasksSum(_ p: UnsafeRawPointer) -> (UInt64, UInt64) {
    var quotes: UInt64 = 0, stops: UInt64 = 0
    for i in 0 ..< 4 {
        let v = p.loadUnaligned(fromByteOffset: i * 16, as: Bytes16.self)
        quotes |= bitsBySum(v .== Bytes16(repeating: 0x22)) << UInt64(i * 16)
        let stop = (v .== Bytes16(repeating: 0x5C)) .| (v .< Bytes16(repeating: 0x20)) .| (v .>= Bytes16(repeating: 0x80))
        stops |= bitsBySum(stop) << UInt64(i * 16)
    }
    return (quotes, stops)
}

/// The two masks with no vector type: SWAR flags on eight-byte words, gathered by the multiply.
/// (Flags above a true one can be false positives, as in `SWAR`; fine for counting the cost.)
@inline(never) func twoMasksWords(_ p: UnsafeRawPointer) -> (UInt64, UInt64) {
    var quotes: UInt64 = 0, stops: UInt64 = 0
    let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080, gather: UInt64 = 0x0002_0408_1020_4081
    for i in 0 ..< 8 {
        let w = p.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
        let q = w ^ (ones &* 0x22), b = w ^ (ones &* 0x5C)
        let quote = (q &- ones) & ~q & highs
        let stop = (((b &- ones) & ~b) | (w &- ones &* 0x20) | w) & highs
        quotes |= ((quote &* gather) >> 56) << UInt64(i * 8)
        stops |= ((stop &* gather) >> 56) << UInt64(i * 8)
    }
    return (quotes, stops)
}

/// The classes a full structural scan needs: quote, backslash, control, 0x80 and above,
/// whitespace, and the six structural characters, six masks.
@inline(never) func sixMasksMultiply(_ p: UnsafeRawPointer) -> (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) {
    var q: UInt64 = 0, b: UInt64 = 0, c: UInt64 = 0, h: UInt64 = 0, w: UInt64 = 0, o: UInt64 = 0
    for i in 0 ..< 4 {
        let v = p.loadUnaligned(fromByteOffset: i * 16, as: Bytes16.self)
        let shift = UInt64(i * 16)
        q |= bitsByMultiply(v .== Bytes16(repeating: 0x22)) << shift
        b |= bitsByMultiply(v .== Bytes16(repeating: 0x5C)) << shift
        c |= bitsByMultiply(v .< Bytes16(repeating: 0x20)) << shift
        h |= bitsByMultiply(v .>= Bytes16(repeating: 0x80)) << shift
        let space = (v .== Bytes16(repeating: 0x20)) .| (v .== Bytes16(repeating: 0x0A)) .| (v .== Bytes16(repeating: 0x0D))
            .| (v .== Bytes16(repeating: 0x09))
        w |= bitsByMultiply(space) << shift
        let folded = v | Bytes16(repeating: 0x20)  // `[` → `{`, `]` → `}`
        let op = (folded .== Bytes16(repeating: 0x7B)) .| (folded .== Bytes16(repeating: 0x7D)) .| (v .== Bytes16(repeating: 0x3A))
            .| (v .== Bytes16(repeating: 0x2C))
        o |= bitsByMultiply(op) << shift
    }
    return (q, b, c, h, w, o)
}

/// The in-string mask of a block from its unescaped quotes: a prefix XOR by shifts (no carry-less multiply).
@inline(never) func inString(_ quotes: UInt64, _ carry: inout UInt64) -> UInt64 {
    var x = quotes
    x ^= x << 1; x ^= x << 2; x ^= x << 4; x ^= x << 8; x ^= x << 16; x ^= x << 32
    x ^= carry
    carry = UInt64(bitPattern: Int64(bitPattern: x) >> 63)
    return x
}

let variant = CommandLine.arguments.dropFirst().first ?? "two-multiply"
let count = CommandLine.arguments.dropFirst(2).first.flatMap { Int($0) } ?? 20_000
var buffer: [UInt8] = []
for event in DemoStream(count: Int.max).lazy.filter({ $0.topic == "orders" }).prefix(count) { buffer.append(contentsOf: event.value.utf8) }
let blocks = (buffer.count + 63) / 64
buffer.append(contentsOf: repeatElement(0x20, count: blocks * 64 - buffer.count))
var check: UInt64 = 0
var carry: UInt64 = 0
buffer.withUnsafeBytes { raw in
    for k in 0 ..< blocks {
        let p = raw.baseAddress! + k * 64
        switch variant {
        case "two-multiply": let (q, s) = twoMasksMultiply(p); check &+= q ^ s
        case "two-sum": let (q, s) = twoMasksSum(p); check &+= q ^ s
        case "two-words": let (q, s) = twoMasksWords(p); check &+= q ^ s
        case "six-multiply": let m = sixMasksMultiply(p); check &+= m.0 ^ m.1 ^ m.2 ^ m.3 ^ m.4 ^ m.5
        default: check &+= inString(UInt64(truncatingIfNeeded: k &* 0x9E37_79B9), &carry)
        }
    }
}
print("bytes \(buffer.count) check \(check)")
