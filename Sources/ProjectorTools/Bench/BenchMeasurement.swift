internal import Projector
internal import Foundation
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// What one timed phase of `projector bench` did: counts, time, CPU, memory and allocations.
public struct BenchMeasurement: Sendable, Codable {
    /// The phase: `produce`, `consume` or `pipeline`.
    public var mode: String
    /// Records produced or consumed.
    public var messages: Int
    /// Value bytes moved.
    public var bytes: Int
    /// Wall-clock seconds of the timed region.
    public var seconds: Double
    /// CPU seconds of the whole process (every thread, librdkafka's included) in the timed region.
    public var cpuSeconds: Double
    /// The process's peak resident set at the end, in KiB (`getrusage` `ru_maxrss`).
    public var maxRSSKiB: Int
    /// Heap allocations in the timed region, when the allocation counter is preloaded (see ``AllocationCounter``).
    public var allocations: Int?
    /// Polls (or produce flushes) that returned records.
    public var batches: Int
    /// The median time of one poll-and-process round, in milliseconds.
    public var p50BatchMilliseconds: Double
    /// The 99th percentile of that time, in milliseconds.
    public var p99BatchMilliseconds: Double

    /// Records per second.
    public var messagesPerSecond: Double { Double(messages) / max(seconds, 1e-9) }
    /// Value megabytes (10^6) per second.
    public var megabytesPerSecond: Double { Double(bytes) / 1e6 / max(seconds, 1e-9) }
    /// CPU microseconds per record.
    public var cpuMicrosecondsPerMessage: Double { cpuSeconds * 1e6 / Double(max(messages, 1)) }
    /// Allocations per record, when counted.
    public var allocationsPerMessage: Double? { allocations.map { Double($0) / Double(max(messages, 1)) } }

    /// One line for people.
    public var summary: String {
        var line = "\(mode.padding(toLength: 8, withPad: " ", startingAt: 0)) \(messages) msgs in \(Self.format(seconds, 2)) s: "
            + "\(Self.grouped(messagesPerSecond)) msg/s, \(Self.format(megabytesPerSecond, 1)) MB/s, "
            + (batches == 0 ? "" : "batch p50 \(Self.format(p50BatchMilliseconds, 2)) ms p99 \(Self.format(p99BatchMilliseconds, 2)) ms, ")
            + "CPU \(Self.format(cpuMicrosecondsPerMessage, 2)) µs/msg, peak RSS \(maxRSSKiB / 1024) MiB"
        if let perMessage = allocationsPerMessage { line += ", \(Self.format(perMessage, 3)) allocs/msg" }
        return line
    }

    /// One JSON object (snake_case keys), the format `benchmarks/run` reads.
    public var json: String {
        var fields = [
            "\"tool\":\"swift\"", "\"mode\":\"\(mode)\"", "\"messages\":\(messages)", "\"bytes\":\(bytes)",
            "\"seconds\":\(seconds)", "\"cpu_seconds\":\(cpuSeconds)", "\"max_rss_kb\":\(maxRSSKiB)",
            "\"batches\":\(batches)", "\"p50_batch_ms\":\(p50BatchMilliseconds)", "\"p99_batch_ms\":\(p99BatchMilliseconds)",
        ]
        if let allocations { fields.append("\"allocations\":\(allocations)") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    static func grouped(_ value: Double) -> String {
        let digits = String(Int(value.rounded()))
        var result = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0 && index % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return String(result.reversed())
    }
}

/// Times a region: wall clock, process CPU, allocations and per-batch latencies.
struct BenchStopwatch {
    private let start = ContinuousClock.now
    private let cpuStart = BenchStopwatch.cpuSeconds()
    private let allocationsStart = AllocationCounter.current()
    private var latencies: [Double] = []

    init(expectedBatches: Int) { latencies.reserveCapacity(expectedBatches) }

    /// Records one batch's duration.
    mutating func record(_ duration: Duration) {
        latencies.append(Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1e3)
    }

    /// The measurement of the region so far.
    func finishing(mode: String, messages: Int, bytes: Int) -> BenchMeasurement {
        let elapsed = ContinuousClock.now - start
        let cpu = Self.cpuSeconds() - cpuStart
        let allocations = AllocationCounter.current().map { $0 - (allocationsStart ?? 0) }
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[Int((p * Double(sorted.count - 1)).rounded())]
        }
        return BenchMeasurement(
            mode: mode, messages: messages, bytes: bytes,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            cpuSeconds: cpu, maxRSSKiB: Self.maxRSSKiB(), allocations: allocations.map { Int($0) },
            batches: latencies.count, p50BatchMilliseconds: percentile(0.5), p99BatchMilliseconds: percentile(0.99))
    }

    static func cpuSeconds() -> Double {
        let usage = resourceUsage()
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    static func maxRSSKiB() -> Int {
        // Linux reports KiB; macOS reports bytes.
        #if os(Linux)
        return Int(resourceUsage().ru_maxrss)
        #else
        return Int(resourceUsage().ru_maxrss) / 1024
        #endif
    }

    /// `getrusage(RUSAGE_SELF)`: every thread of the process, librdkafka's included.
    private static func resourceUsage() -> rusage {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return usage
    }
}

/// Reads the allocation counter of `benchmarks/`' preloadable `libmalloccount.so`, when the process
/// runs with it in `LD_PRELOAD`; otherwise allocations are not counted.
enum AllocationCounter {
    private typealias Counter = @convention(c) () -> UInt64

    /// The number of `malloc`/`calloc`/`realloc`/`posix_memalign`/`aligned_alloc` calls so far, or nil.
    static func current() -> UInt64? {
        // Looked up on every call: two per measured phase, never per record.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloccount_total") else { return nil }
        return unsafeBitCast(symbol, to: Counter.self)()
    }
}
