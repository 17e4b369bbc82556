public import Foundation
#if canImport(FoundationNetworking)
public import FoundationNetworking
#endif
internal import Dispatch
internal import Synchronization

/// An answer of ``httpGet(_:headers:timeout:)``: status, headers (names lowercased) and body.
public struct HTTPAnswer: Sendable {
    /// The status code.
    public var status: Int
    /// The response headers, names lowercased.
    public var headers: [String: String]
    /// The body.
    public var body: Data

    /// The body as text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed by `JSONSerialization` as an object.
    public func object() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw CocoaError(.propertyListReadCorrupt, userInfo: [NSDebugDescriptionErrorKey: "not a JSON object: \(text)"])
        }
        return object
    }
}

/// A real HTTP GET with URLSession (no cache, no cookies), for tests against a running server.
/// - Throws: the transport error, or `URLError(.timedOut)` past `timeout`.
public func httpGet(_ url: String, headers: [String: String] = [:], timeout: Duration = .seconds(30)) throws -> HTTPAnswer {
    var request = URLRequest(url: URL(string: url)!)
    request.cachePolicy = .reloadIgnoringLocalAndRemoteCacheData
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
    request.timeoutInterval = seconds
    let result = Mutex<Result<HTTPAnswer, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    HTTPSession.shared.dataTask(with: request) { data, response, error in
        if let error {
            result.withLock { $0 = .failure(error) }
        } else {
            let http = response as? HTTPURLResponse
            var fields: [String: String] = [:]
            for (name, value) in http?.allHeaderFields ?? [:] {
                fields[String(describing: name).lowercased()] = String(describing: value)
            }
            result.withLock { $0 = .success(HTTPAnswer(status: http?.statusCode ?? 0, headers: fields, body: data ?? Data())) }
        }
        done.signal()
    }.resume()
    guard done.wait(timeout: .now() + seconds + 5) == .success, let outcome = result.withLock({ $0 }) else {
        throw URLError(.timedOut)
    }
    return try outcome.get()
}

/// One session without a cache: a 304 must reach the test as a 304.
private enum HTTPSession {
    static let shared: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        configuration.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: configuration)
    }()
}
