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
    /// Property name → "C" (consumer only), "P" (producer only) or "*" (both).
    static let scopes: [String: String] = {
        var buffer: UnsafeMutablePointer<CChar>?
        var size = 0
        guard let stream = open_memstream(&buffer, &size) else { return [:] }
        rd_kafka_conf_properties_show(stream)
        fclose(stream)
        defer { free(buffer) }
        guard let buffer else { return [:] }
        var scopes: [String: String] = [:]
        for line in String(cString: buffer).split(separator: "\n") {
            let columns = line.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
            guard columns.count == 3 else { continue }
            let scope = columns[1].trimmingSpaces
            guard ["C", "P", "*"].contains(scope) else { continue }
            scopes[columns[0].trimmingSpaces] = scope
        }
        return scopes
    }()

    /// `properties` without those of the other kind of client than `type`.
    static func keeping(_ properties: [(key: String, value: String)], for type: rd_kafka_type_t) -> [(key: String, value: String)] {
        let other = type == RD_KAFKA_CONSUMER ? "P" : "C"
        return properties.filter { scopes[$0.key] != other }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
