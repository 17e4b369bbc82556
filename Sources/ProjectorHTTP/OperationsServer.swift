internal import Foundation
public import Hummingbird
public import Logging
public import Projector

/// The `--http` server: `GET /metrics` (Prometheus text), `GET /healthz` and `GET /readyz`
/// (JSON that says why, 200 or 503), and the ``ReadAPI`` when given.
///
/// ``makeRouter()`` returns the router so later endpoints join the same server.
public struct OperationsServer: Sendable {
    /// What the probes and the metrics page read.
    public let metrics: RuntimeMetrics
    /// `projector_build_info{version}`.
    public let version: String
    /// `/readyz` fails while a partition is further behind than this; nil means no limit.
    public let readyMaxLagSeconds: Double?
    /// More families for `/metrics`, read at every scrape (e.g. dead letters from the store).
    public let extraFamilies: @Sendable () -> [MetricFamily]
    /// The read API (`/views`, `/openapi.yaml`) on the same listener, when given.
    public let readAPI: ReadAPI?

    /// Creates the server's routes; nothing listens until ``makeApplication(host:port:logger:onListening:)``.
    public init(metrics: RuntimeMetrics, version: String, readyMaxLagSeconds: Double?,
                extraFamilies: @escaping @Sendable () -> [MetricFamily] = { [] }, readAPI: ReadAPI? = nil) {
        self.metrics = metrics
        self.version = version
        self.readyMaxLagSeconds = readyMaxLagSeconds
        self.extraFamilies = extraFamilies
        self.readAPI = readAPI
    }

    /// The text `/metrics` serves.
    public func metricsText() -> String {
        let build = MetricFamily(name: "projector_build_info", help: "Always 1; the projector version as a label.", kind: .gauge,
                                 samples: [.init(labels: [("version", version)], value: 1)])
        return MetricFamily.render([build] + metrics.families() + extraFamilies())
    }

    /// The router with the operations endpoints.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: metricsText())))
        }
        router.get("healthz") { _, _ in Self.response(metrics.liveness()) }
        router.get("readyz") { _, _ in Self.response(metrics.readiness(maxLagSeconds: readyMaxLagSeconds)) }
        readAPI?.addRoutes(to: router)
        return router
    }

    /// An application listening on `host:port` (port 0 picks a free one); run it as a
    /// swift-service-lifecycle `Service`.
    /// - Parameters:
    ///   - host: the address to listen on (`127.0.0.1` keeps it on this machine).
    ///   - port: the port; 0 picks a free one.
    ///   - logger: the server's logger.
    ///   - onListening: called with the bound port once the server accepts connections.
    public func makeApplication(
        host: String, port: Int, logger: Logger, onListening: @escaping @Sendable (Int) -> Void
    ) -> some ApplicationProtocol {
        Application(
            router: makeRouter(), configuration: .init(address: .hostname(host, port: port), serverName: "projector"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) }, logger: logger)
    }

    private static func response(_ report: HealthReport) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = (try? encoder.encode(report)) ?? Data(#"{"status":"fail"}"#.utf8)
        return Response(status: report.isHealthy ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
