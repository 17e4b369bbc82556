/// A position in Kafka topics: the next offset per topic partition, carried as an opaque token.
///
/// It is what read-your-writes is made of. A producer's position (``KafkaProducer/deliveredPosition``)
/// says "the view has my events once it has read up to here"; a view's position (the read API's
/// `Projector-Position` header) says how far the view has read. Positions merge per partition by
/// maximum (``merge(_:)``), so a client can carry one token forward across requests and across
/// workers for monotonic reads.
///
/// ```swift
/// try producer.send(KafkaProducerMessage(topic: "orders", key: key, value: value))
/// try producer.flush(timeout: .seconds(10))
/// let token = producer.deliveredPosition.token   // send as Projector-Min-Position
/// ```
///
/// The token's layout is not a contract: pass it on unchanged, merge it with ``merge(_:)``.
public struct KafkaPosition: Sendable, Hashable, CustomStringConvertible {
    /// The next offset (the last offset read or written + 1) per topic and partition.
    public var offsets: [String: [Int32: Int64]]
    /// The generation of the view that gave the position (see the read API), or `nil` for a
    /// producer's position.
    public var generation: String?

    /// Creates a position.
    public init(offsets: [String: [Int32: Int64]] = [:], generation: String? = nil) {
        self.offsets = offsets
        self.generation = generation
    }

    /// Whether the position names no partition.
    public var isEmpty: Bool { offsets.values.allSatisfy(\.isEmpty) }

    /// Raises one partition's next offset to `nextOffset` (keeps it when already further).
    public mutating func advance(topic: String, partition: Int32, to nextOffset: Int64) {
        offsets[topic, default: [:]][partition] = max(offsets[topic]?[partition] ?? nextOffset, nextOffset)
    }

    /// Takes the maximum of each partition's next offset; keeps this generation unless it has none.
    public mutating func merge(_ other: KafkaPosition) {
        for (topic, partitions) in other.offsets {
            for (partition, offset) in partitions {
                advance(topic: topic, partition: partition, to: offset)
            }
        }
        if generation == nil { generation = other.generation }
    }

    /// The partitions of `self` that `other` has not reached yet (its next offset is lower, or it
    /// does not name the partition), limited to `topics` when given.
    public func partitionsAhead(of other: KafkaPosition, topics: Set<String>? = nil) -> [(topic: String, partition: Int32)] {
        var ahead: [(topic: String, partition: Int32)] = []
        for topic in offsets.keys.sorted() where topics?.contains(topic) ?? true {
            for (partition, offset) in offsets[topic]!.sorted(by: { $0.key < $1.key })
            where (other.offsets[topic]?[partition] ?? 0) < offset {
                ahead.append((topic, partition))
            }
        }
        return ahead
    }

    /// The opaque token: base64url of `p1;<generation>;<topic>:<partition>=<offset>,…;…`.
    public var token: String {
        var text = "p1;" + (generation ?? "")
        for topic in offsets.keys.sorted() {
            let partitions = offsets[topic]!.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            text += ";" + topic + ":" + partitions.joined(separator: ",")
        }
        return Base64URL.encode(Array(text.utf8))
    }

    /// Reads a token made by ``token``.
    /// - Throws: ``KafkaPositionError`` when `token` is not one.
    public init(token: String) throws(KafkaPositionError) {
        guard token.utf8.count <= 16_384, let bytes = Base64URL.decode(token),
              let text = String(validating: bytes, as: UTF8.self) else {
            throw KafkaPositionError(token: token, reason: "it is not base64url text")
        }
        let fields = text.split(separator: ";", omittingEmptySubsequences: false)
        guard fields.count >= 2, fields[0] == "p1" else { throw KafkaPositionError(token: token, reason: "it has no p1 header") }
        self.init(generation: fields[1].isEmpty ? nil : String(fields[1]))
        for field in fields.dropFirst(2) {
            let parts = field.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else { throw KafkaPositionError(token: token, reason: "'\(field)' is not topic:partition=offset") }
            for pair in parts[1].split(separator: ",") {
                let numbers = pair.split(separator: "=", omittingEmptySubsequences: false)
                guard numbers.count == 2, let partition = Int32(numbers[0]), partition >= 0, let offset = Int64(numbers[1]), offset >= 0 else {
                    throw KafkaPositionError(token: token, reason: "'\(pair)' is not partition=offset")
                }
                advance(topic: String(parts[0]), partition: partition, to: offset)
            }
        }
    }

    /// `topic/partition=offset` pairs, for logs.
    public var description: String {
        offsets.keys.sorted().flatMap { topic in
            offsets[topic]!.sorted { $0.key < $1.key }.map { "\(topic)/\($0.key)=\($0.value)" }
        }.joined(separator: " ")
    }
}

/// A text that is not a ``KafkaPosition`` token.
public struct KafkaPositionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text given.
    public var token: String
    /// Why it is not a token.
    public var reason: String

    /// The reason, and what to do.
    public var description: String {
        "not a position token (\(reason)); pass a Projector-Position or `projector produce` token unchanged"
    }
}

/// RFC 4648 §5 base64url without padding.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value = UInt32(0)
            for (offset, byte) in chunk.enumerated() { value |= UInt32(byte) << (16 - 8 * offset) }
            for position in 0...chunk.count { out.append(alphabet[Int((value >> (18 - 6 * position)) & 63)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var value = UInt32(0)
        var bits = 0
        for character in text.utf8 {
            guard let digit = alphabet.firstIndex(of: character) else { return nil }
            value = (value << 6) | UInt32(digit)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((value >> UInt32(bits)) & 0xff))
            }
        }
        return bits >= 6 ? nil : out
    }
}
