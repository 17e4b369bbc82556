/// One Prometheus metric family: its name, help, type and samples, rendered in the text format
/// (version 0.0.4) by ``render(_:)``.
///
/// Kept independent of the runtime so other sources (the store's dead letters, librdkafka's
/// statistics, a future read API) can add families to the same `/metrics` page.
public struct MetricFamily: Sendable {
    /// The Prometheus metric type.
    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    /// One sample: label pairs in order, and a value. Histogram families carry their `_bucket`,
    /// `_sum` and `_count` samples with ``suffix`` set.
    public struct Sample: Sendable {
        /// Appended to the family name (`_bucket`, `_sum`, `_count`), empty otherwise.
        public var suffix: String
        /// Label names and values, in order.
        public var labels: [(String, String)]
        /// The value.
        public var value: Double

        /// Creates a sample.
        public init(suffix: String = "", labels: [(String, String)], value: Double) {
            self.suffix = suffix
            self.labels = labels
            self.value = value
        }
    }

    /// The family name (`projector_…`).
    public var name: String
    /// One line saying what it measures.
    public var help: String
    /// The type.
    public var kind: Kind
    /// The samples.
    public var samples: [Sample]

    /// Creates a family.
    public init(name: String, help: String, kind: Kind, samples: [Sample]) {
        self.name = name
        self.help = help
        self.kind = kind
        self.samples = samples
    }

    /// Renders families as Prometheus text; families without samples are left out.
    public static func render(_ families: [MetricFamily]) -> String {
        var text = ""
        for family in families where !family.samples.isEmpty {
            text += "# HELP \(family.name) \(escapeHelp(family.help))\n# TYPE \(family.name) \(family.kind.rawValue)\n"
            for sample in family.samples {
                text += family.name + sample.suffix
                if !sample.labels.isEmpty {
                    text += "{" + sample.labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
                }
                text += " " + format(sample.value) + "\n"
            }
        }
        return text
    }

    private static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    private static func escapeLabel(_ value: String) -> String {
        value.replacingOccurrences("\\", "\\\\").replacingOccurrences("\"", "\\\"").replacingOccurrences("\n", "\\n")
    }

    private static func escapeHelp(_ value: String) -> String {
        value.replacingOccurrences("\\", "\\\\").replacingOccurrences("\n", "\\n")
    }
}

extension String {
    /// Every occurrence of `target` replaced (without Foundation).
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
