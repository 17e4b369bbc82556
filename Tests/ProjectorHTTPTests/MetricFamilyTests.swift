import Foundation
import Projector
import ProjectorHTTP
import ProjectorTestSupport
import Testing

/// The Prometheus text renderer and the runtime's families, without a server.
@Suite("Prometheus text")
struct MetricFamilyTests {
    @Test("label values and help are escaped; whole numbers print without a fraction; empty families are left out")
    func rendering() {
        let text = MetricFamily.render([
            MetricFamily(name: "projector_test", help: "a \\ help\nline", kind: .gauge,
                         samples: [.init(labels: [("topic", #"a"b\c"#), ("partition", "0")], value: 3),
                                   .init(labels: [("topic", "x\ny")], value: 0.25)]),
            MetricFamily(name: "projector_empty", help: "nothing", kind: .counter, samples: []),
        ])
        #expect(text == """
            # HELP projector_test a \\\\ help\\nline
            # TYPE projector_test gauge
            projector_test{topic="a\\"b\\\\c",partition="0"} 3
            projector_test{topic="x\\ny"} 0.25

            """)
    }

    @Test("rebuild progress and the build info render as families promtool accepts")
    func rebuildFamilies() throws {
        let metrics = RuntimeMetrics(stallAfter: .seconds(5))
        metrics.setRebuild(RebuildSnapshot(pipeline: "orders", eventsDone: 120, eventsTarget: 400, etaSeconds: 2.5))
        let server = OperationsServer(metrics: metrics, version: "1.2.3", readyMaxLagSeconds: nil)
        let text = server.metricsText()
        #expect(text.contains(#"projector_build_info{version="1.2.3"} 1"#))
        #expect(text.contains(#"projector_rebuild_events{pipeline="orders"} 120"#))
        #expect(text.contains(#"projector_rebuild_target_events{pipeline="orders"} 400"#))
        #expect(text.contains(#"projector_rebuild_eta_seconds{pipeline="orders"} 2.5"#))
        #expect(metrics.readiness(maxLagSeconds: nil).isHealthy == false, "no worker: not ready")
        #expect(metrics.liveness().isHealthy, "no worker: nothing wedged")

        let (status, findings) = try promtoolCheck(text)
        #expect(status == 0 && findings.isEmpty, "\(findings)")
    }
}
