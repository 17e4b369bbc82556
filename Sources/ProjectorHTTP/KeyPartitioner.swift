/// The partition a producer sends a message key to, computed as the producer's partitioner does,
/// so a read of one row of a view keyed by the message key waits for that partition alone.
///
/// Both are the keyed half of librdkafka's partitioners (a message without a key goes to a random
/// partition, but a row keyed by the message key always has one): `consistent_random`,
/// librdkafka's default, is the CRC-32 of the key bytes modulo the partition count (an empty key
/// goes to a random partition too); `murmur2_random` is the Java client's default, murmur2 of the
/// key with the sign bit cleared modulo the count. A producer configured with another partitioner (or its own) makes the
/// server wait on the wrong partition: give the server the producers' partitioner.
public struct KeyPartitioner: Sendable, Hashable {
    /// The partitioners the server can reproduce, named as librdkafka's `partitioner` property.
    public enum Algorithm: String, Sendable, Hashable, CaseIterable {
        /// librdkafka's default: CRC-32 (IEEE) of the key.
        case consistentRandom = "consistent_random"
        /// The Java client's default: murmur2 (seed 0x9747b28c) of the key, sign bit cleared.
        case murmur2Random = "murmur2_random"
    }

    /// The producers' partitioner.
    public var algorithm: Algorithm

    /// Creates a partitioner; librdkafka's default unless told otherwise.
    public init(_ algorithm: Algorithm = .consistentRandom) {
        self.algorithm = algorithm
    }

    /// The partition of `key` among `count` partitions (`count` > 0), or `nil` when the producer
    /// picks one at random (an empty key under `consistent_random`).
    public func partition(of key: [UInt8], count: Int32) -> Int32? {
        precondition(count > 0, "a topic has at least one partition")
        switch algorithm {
        case .consistentRandom: return key.isEmpty ? nil : Int32(Self.crc32(key) % UInt32(count))
        case .murmur2Random: return Int32((Self.murmur2(key) & 0x7fff_ffff) % UInt32(count))
        }
    }

    /// CRC-32 as zlib and librdkafka's `rd_crc32` compute it (reflected polynomial 0xedb88320).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0 ..< 8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xedb8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// murmur2 as the Java client's `Utils.murmur2` and librdkafka's `rd_murmur2` compute it.
    static func murmur2(_ bytes: [UInt8]) -> UInt32 {
        let m: UInt32 = 0x5bd1_e995
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: bytes.count)
        var index = 0
        while index + 4 <= bytes.count {
            var k = UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24
            k = k &* m
            k ^= k >> 24
            k = k &* m
            h = h &* m
            h ^= k
            index += 4
        }
        let rest = bytes.count - index
        if rest >= 3 { h ^= UInt32(bytes[index + 2]) << 16 }
        if rest >= 2 { h ^= UInt32(bytes[index + 1]) << 8 }
        if rest >= 1 {
            h ^= UInt32(bytes[index])
            h = h &* m
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return h
    }
}
