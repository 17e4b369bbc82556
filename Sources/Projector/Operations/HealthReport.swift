/// The answer of a liveness or readiness probe, with the reasons a load balancer's log can show.
public struct HealthReport: Sendable, Encodable {
    /// One pipeline's verdict.
    public struct Check: Sendable, Encodable {
        /// The pipeline.
        public var pipeline: String
        /// Whether it passes.
        public var ok: Bool
        /// Why not (empty when it passes).
        public var reason: String
    }

    /// `ok` or `fail`.
    public var status: String
    /// Every pipeline's verdict.
    public var pipelines: [Check]

    /// Whether every pipeline passes.
    public var isHealthy: Bool { status == "ok" }

    init(_ checks: [Check]) {
        pipelines = checks
        status = checks.allSatisfy(\.ok) ? "ok" : "fail"
    }
}

extension RuntimeMetrics {
    /// Live when every running worker loop polled within ``stallAfter`` (a batch being applied
    /// counts from the poll that fetched it): a wedged loop fails, as Kafka Connect's KIP-1017 probe does.
    public func liveness() -> HealthReport {
        HealthReport(snapshots().map { snapshot in
            guard snapshot.isRunning, let since = snapshot.sinceLastPoll else {
                return .init(pipeline: snapshot.pipeline, ok: true, reason: "")
            }
            if since >= stallAfter {
                return .init(pipeline: snapshot.pipeline, ok: false,
                             reason: "the worker loop has not polled for \(since.seconds) s (limit \(stallAfter.seconds) s)")
            }
            return .init(pipeline: snapshot.pipeline, ok: true, reason: "")
        })
    }

    /// Ready when every pipeline runs, has its assignment (not rebalancing), and no partition is
    /// more than `maxLagSeconds` behind (no limit when nil).
    public func readiness(maxLagSeconds: Double?) -> HealthReport {
        let snapshots = snapshots()
        if snapshots.isEmpty { return HealthReport([.init(pipeline: "", ok: false, reason: "no worker has started")]) }
        return HealthReport(snapshots.map { snapshot in
            let name = snapshot.pipeline
            guard snapshot.isRunning else { return .init(pipeline: name, ok: false, reason: "not running") }
            guard snapshot.isAssigned else {
                return .init(pipeline: name, ok: false, reason: "waiting for its partition assignment (rebalancing)")
            }
            if let maxLagSeconds, let worst = snapshot.partitions.max(by: { $0.lagSeconds < $1.lagSeconds }),
               worst.lagSeconds > maxLagSeconds {
                return .init(pipeline: name, ok: false,
                             reason: "\(worst.topic) partition \(worst.partition) is \(worst.lagSeconds) s behind (limit \(maxLagSeconds) s, \(worst.lagRecords) records)")
            }
            return .init(pipeline: name, ok: true, reason: "")
        })
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
