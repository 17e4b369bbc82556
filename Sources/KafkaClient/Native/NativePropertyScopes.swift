internal import CRdKafka
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Which kind of client each librdkafka property applies to, read once from librdkafka's own
/// property table (`rd_kafka_conf_properties_show`, the C/P column of CONFIGURATION.md).
///
/// A consumer property set on a producer makes librdkafka warn (`CONFWARN … is a consumer
/// property and will be ignored by this producer instance`); clients drop the other kind's
/// properties instead, so one `-X` list can serve a worker's consumer and its producers.
enum NativePropertyScopes {
    /// Property name → "C" (consumer only) or "P" (producer only); properties of both kinds are
    /// absent. Read from the table's bytes (~56 kB): splitting it as a `String` cost ~49 million
    /// instructions, a tenth of a 20,000-event rebuild.
    static let scopes: [String: String] = {
        var buffer: UnsafeMutablePointer<CChar>?
        var size = 0
        guard let stream = open_memstream(&buffer, &size) else { return [:] }
        rd_kafka_conf_properties_show(stream)
        fclose(stream)
        defer { free(buffer) }
        guard let buffer else { return [:] }
        return UnsafeRawBufferPointer(start: buffer, count: size).withMemoryRebound(to: UInt8.self) { parse(table: $0) }
    }()

    /// The one-kind properties of a `Property | C/P | …` table, one row per line.
    static func parse(table bytes: UnsafeBufferPointer<UInt8>) -> [String: String] {
        var scopes: [String: String] = [:]
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            defer { lineStart = lineEnd + 1 }
            var bar = lineStart
            while bar < lineEnd, bytes[bar] != UInt8(ascii: "|") { bar += 1 }
            guard bar < lineEnd, case let scope = trimmed(bytes, bar + 1, lineEnd, upTo: UInt8(ascii: "|")),
                  scope.count == 1, scope.first == UInt8(ascii: "C") || scope.first == UInt8(ascii: "P")
            else { continue }
            let name = trimmed(bytes, lineStart, bar, upTo: nil)
            scopes[String(decoding: name, as: UTF8.self)] = scope.first == UInt8(ascii: "C") ? "C" : "P"
        }
        return scopes
    }

    /// The bytes from `start` to `end` (or to the first `stop` byte), without surrounding spaces.
    private static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, upTo stop: UInt8?) -> Slice<UnsafeBufferPointer<UInt8>> {
        var last = start
        while last < end, bytes[last] != stop { last += 1 }
        var first = start
        while first < last, bytes[first] == UInt8(ascii: " ") { first += 1 }
        while last > first, bytes[last - 1] == UInt8(ascii: " ") { last -= 1 }
        return bytes[first..<last]
    }

    /// `properties` without those of the other kind of client than `type`.
    static func keeping(_ properties: [(key: String, value: String)], for type: rd_kafka_type_t) -> [(key: String, value: String)] {
        let other = type == RD_KAFKA_CONSUMER ? "P" : "C"
        return properties.filter { scopes[$0.key] != other }
    }
}
