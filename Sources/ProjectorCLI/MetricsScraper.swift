import Foundation
import Synchronization

/// Scrapes `GET /metrics` over a plain TCP connection every interval, as Prometheus does, so that
/// `bench --http` measures the pipeline with the scrapes' cost included (rendering the text takes
/// the metrics lock the worker takes once per batch).
final class MetricsScraper: Sendable {
    private let port: Int
    private let interval: Duration
    private let stopped = Atomic<Bool>(false)
    private let counts = Mutex<(ok: Int, failed: Int, lastFailure: String?)>((0, 0, nil))
    private let done = DispatchSemaphore(value: 0)

    /// Starts scraping `127.0.0.1:port` on a thread of its own.
    init(port: Int, interval: Duration) {
        self.port = port
        self.interval = interval
        let thread = Thread { [self] in
            while !stopped.load(ordering: .acquiring) {
                let started = ContinuousClock.now
                let outcome = scrapeOnce()
                counts.withLock { counts in
                    if let failure = outcome { counts.failed += 1; counts.lastFailure = failure } else { counts.ok += 1 }
                }
                // Pacing, not synchronisation: one scrape per interval.
                let rest = started + interval - ContinuousClock.now
                if rest > .zero { Thread.sleep(forTimeInterval: Double(rest.components.seconds) + Double(rest.components.attoseconds) / 1e18) }
            }
            done.signal()
        }
        thread.name = "projector.scraper"
        thread.start()
    }

    /// Stops after the scrape in progress.
    /// - Returns: how many scrapes answered 200, how many did not, and the last failure.
    func stop() -> (ok: Int, failed: Int, lastFailure: String?) {
        stopped.store(true, ordering: .releasing)
        done.wait()
        return counts.withLock { $0 }
    }

    /// One `GET /metrics`; nil when it answered 200 with a body, else what went wrong.
    private func scrapeOnce() -> String? {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return "socket: errno \(errno)" }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return "connect: errno \(errno)" }
        let request = Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(socket, $0.baseAddress, $0.count, 0) }) == request.count else { return "send: errno \(errno)" }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response += buffer[0 ..< count]
        }
        let head = String(decoding: response.prefix(64), as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 200") else { return "answered: \(head.split(separator: "\r\n").first ?? "nothing")" }
        return response.count > 200 ? nil : "a metrics page of \(response.count) bytes"
    }
}
