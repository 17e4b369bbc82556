internal import Foundation
public import Hummingbird
internal import KafkaClient
internal import ProjectorModel
internal import Synchronization
public import Views

/// The read API: `GET /views`, `GET /views/{view}/rows/{key}`, `GET /views/{view}/rows` and
/// `GET /openapi.yaml`, with positions for read-your-writes (docs/openapi.yaml describes them).
///
/// Every answer about a view carries `Projector-Position`, the view's checkpoints as a
/// `KafkaPosition` token with the generation. A request with `Projector-Min-Position: TOKEN`
/// (or `?min_position=`) is answered only from a snapshot whose checkpoints reached the token on
/// every partition it names of the view's pipeline's topics (``pipelineTopics``), or only on the
/// key's partition for one row of a view keyed by the message key (``messageKeyedViews``,
/// ``partitioner``); with `Prefer: wait=N` the server polls the store's checkpoints for up to N
/// seconds first, otherwise (or on timeout) it answers 503 with `Retry-After` and both positions.
/// A row read by key is tagged (`ETag`) by its stored values, anything else by the position.
///
/// Reads go through `ViewStoreReader.query(_:maxLimit:)`: one snapshot per read, so a rebuild
/// swapped in is seen whole or not at all. Give it read-only stores of their own (several spread
/// concurrent requests), never the worker's writing connection.
public final class ReadAPI: Sendable {
    /// The stores requests are spread over, round-robin.
    public let stores: [any ViewStoreReader]
    /// The bounds of a request.
    public let limits: ReadLimits
    /// When set, the read endpoints require `Authorization: Bearer <token>`.
    public let bearerToken: String?
    /// The source topics of each pipeline, when the server knows them (`run`, `rebuild`): a
    /// minimum position is awaited on exactly its partitions of these topics.
    public let pipelineTopics: [String: Set<String>]
    /// The views whose key is the message key (`Pipeline.messageKeyedViews`, known to `run` and
    /// `rebuild`): a read of one of their rows waits only for the key's partition.
    public let messageKeyedViews: Set<String>
    /// The producers' partitioner, which maps a key of ``messageKeyedViews`` to its partition.
    public let partitioner: KeyPartitioner
    private let nextStore = Atomic<Int>(0)
    private let waiting = Atomic<Int>(0)

    /// Creates the API over `stores` (at least one).
    public init(stores: [any ViewStoreReader], limits: ReadLimits = ReadLimits(), bearerToken: String? = nil,
                pipelineTopics: [String: Set<String>] = [:], messageKeyedViews: Set<String> = [],
                partitioner: KeyPartitioner = KeyPartitioner()) {
        precondition(!stores.isEmpty, "the read API needs a store")
        self.stores = stores
        self.limits = limits
        self.bearerToken = bearerToken
        self.pipelineTopics = pipelineTopics
        self.messageKeyedViews = messageKeyedViews
        self.partitioner = partitioner
    }

    /// The topics of `pipeline` whose partitions a minimum position is awaited on: its source
    /// topics when known; otherwise the topics it has checkpoints of, or every topic (`nil`) while
    /// it has none (a worker that has not committed its first batch yet).
    func awaitedTopics(pipeline: String, checkpoints: [Checkpoint]) -> Set<String>? {
        if let known = pipelineTopics[pipeline] { return known }
        return checkpoints.isEmpty ? nil : Set(checkpoints.map(\.topic))
    }

    /// Adds the read endpoints to `router`.
    public func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("views") { request, _ in await self.answer(request) { try self.views(request) } }
        router.get("views/:view/rows") { request, context in
            await self.answer(request) { try await self.rows(request, view: context.parameters.get("view") ?? "", pathKey: nil) }
        }
        router.get("views/:view/rows/:key") { request, context in
            await self.answer(request) {
                try await self.rows(request, view: context.parameters.get("view") ?? "", pathKey: context.parameters.get("key") ?? "")
            }
        }
        router.get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
    }

    private var store: any ViewStoreReader {
        stores[nextStore.wrappingAdd(1, ordering: .relaxed).oldValue % stores.count]
    }

    // MARK: - Endpoints

    private func views(_ request: Request) throws -> Response {
        let views = try store.viewDescriptions()
        var json = JSONText()
        json.raw("{\"views\":[")
        for (index, view) in views.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{\"name\":")
            json.string(view.name)
            json.raw(",\"pipeline\":")
            json.string(view.pipeline)
            json.raw(",\"generation\":")
            json.string(view.generation)
            json.raw(",\"columns\":[")
            for (offset, column) in view.columns.enumerated() {
                json.raw(offset > 0 ? ",{\"name\":" : "{\"name\":")
                json.string(column.name)
                json.raw(",\"type\":")
                json.string(column.type.rawValue)
                json.raw("}")
            }
            json.raw("],\"key\":[")
            json.raw(view.keyColumns.map { "\"\(view.columns[$0].name)\"" }.joined(separator: ","))
            json.raw("],\"position\":")
            json.string(Self.position(of: view).token)
            json.raw("}")
        }
        json.raw("]}")
        // Per partition the lowest of the pipelines reading it: a position every view has reached.
        var lowest: [String: [Int32: Int64]] = [:]
        for view in views {
            for checkpoint in view.checkpoints {
                let current = lowest[checkpoint.topic]?[checkpoint.partition] ?? .max
                lowest[checkpoint.topic, default: [:]][checkpoint.partition] = min(current, checkpoint.nextOffset)
            }
        }
        return Self.json(.ok, json.text, headers: [Self.positionHeader: KafkaPosition(offsets: lowest).token])
    }

    private func rows(_ request: Request, view: String, pathKey: String?) async throws -> Response {
        let query = try Self.parse(request, view: view, pathKey: pathKey, defaultLimit: limits.defaultPageSize)
        let minimum = try Self.minimumPosition(request)
        let wait = try preferredWait(request)
        var page = try store.query(query, maxLimit: limits.maxPageSize)
        var headers: HTTPFields = [:]
        if let minimum {
            let topics = awaitedTopics(pipeline: page.view.pipeline, checkpoints: page.view.checkpoints)
            let awaited = awaitedPosition(minimum, query: query, view: page.view, topics: topics)
            var position = Self.position(of: page.view)
            if !awaited.partitionsAhead(of: position, topics: topics).isEmpty {
                guard let wait else { return Self.behind(minimum, awaited, position, waited: nil) }
                guard waiting.add(1, ordering: .relaxed).newValue <= limits.maxConcurrentWaits else {
                    waiting.subtract(1, ordering: .relaxed)
                    throw ReadFailure(.tooManyRequests, "more than \(limits.maxConcurrentWaits) requests are waiting for a position; "
                        + "retry shortly, or ask without Prefer: wait", headers: [.retryAfter: "1"])
                }
                defer { waiting.subtract(1, ordering: .relaxed) }
                let deadline = ContinuousClock.now + wait
                while true {
                    if ContinuousClock.now >= deadline { return Self.behind(minimum, awaited, position, waited: wait) }
                    try await Task.sleep(for: limits.pollInterval)
                    let checkpoints = try store.checkpoints(pipeline: page.view.pipeline)
                    position = KafkaPosition(offsets: Self.offsets(checkpoints), generation: page.view.generation)
                    if awaited.partitionsAhead(of: position, topics: awaitedTopics(pipeline: page.view.pipeline, checkpoints: checkpoints)).isEmpty {
                        break
                    }
                }
                // The same query again, in a snapshot past the position.
                page = try store.query(query, maxLimit: limits.maxPageSize)
            }
            if let wait { headers[Self.preferenceApplied] = "wait=\(Self.seconds(wait))" }
        }
        let position = Self.position(of: page.view)
        headers[Self.positionHeader] = position.token
        // A row by key: its own stored values; a page or a missing row: the view's position.
        let tag = query.key != nil && !page.rows.isEmpty
            ? EntityTag.of(row: page.rows[0], generation: page.view.generation) : EntityTag.of(position)
        headers[.eTag] = tag
        if let match = request.headers[.ifNoneMatch], EntityTag.matches(match, tag) {
            return Response(status: .notModified, headers: headers)
        }
        var json = JSONText()
        if query.key != nil {
            guard let row = page.rows.first else {
                return Self.error(.notFound, "no row of view \(page.view.name) has that key", code: "noSuchRow", headers: headers)
            }
            json.row(row, of: page.view)
        } else {
            json.raw("{\"view\":")
            json.string(page.view.name)
            json.raw(",\"rows\":[")
            for (index, row) in page.rows.enumerated() {
                if index > 0 { json.raw(",") }
                json.row(row, of: page.view)
            }
            json.raw("],\"next\":")
            if let next = page.nextCursor { json.string(next) } else { json.raw("null") }
            json.raw("}")
        }
        return Self.json(.ok, json.text, headers: headers)
    }

    /// Runs an endpoint after the bearer check, turning failures into JSON errors.
    private func answer(_ request: Request, _ body: () async throws -> Response) async -> Response {
        if let bearerToken, request.headers[.authorization] != "Bearer " + bearerToken {
            return Self.error(.unauthorized, "this server requires Authorization: Bearer <token> (the content of its --http-token-file)",
                              code: "unauthorized", headers: [.wwwAuthenticate: "Bearer"])
        }
        do {
            return try await body()
        } catch let failure as ReadFailure {
            return Self.error(failure.status, failure.message, code: failure.code, headers: failure.headers)
        } catch let error as ViewStoreError {
            switch error.code {
            case .noSuchView: return Self.error(.notFound, error.message, code: error.code.name)
            case .invalidQuery: return Self.error(.badRequest, error.message, code: error.code.name)
            case .busy: return Self.error(.serviceUnavailable, error.message, code: error.code.name, headers: [.retryAfter: "1"])
            default: return Self.error(.internalServerError, error.description, code: error.code.name)
            }
        } catch {
            return Self.error(.internalServerError, "\(error)", code: "internal")
        }
    }

    // MARK: - Request parsing

    /// The query of a rows request: `limit`, `order=col[.asc|.desc]`, `after`, `key.<col>`,
    /// `min_position` are reserved; every other parameter is a filter `col=op.value`.
    static func parse(_ request: Request, view: String, pathKey: String?, defaultLimit: Int) throws -> ViewQuery {
        var query = ViewQuery(view: view, limit: defaultLimit)
        if let pathKey {
            let decoded = pathKey.removingPercentEncoding ?? pathKey
            query.key = .positional(decoded.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
        }
        var named: [String: String] = [:]
        for (rawName, rawValue) in request.uri.queryParameters {
            let name = String(rawName).removingPercentEncoding ?? String(rawName)
            let value = String(rawValue)
            switch name {
            case "limit":
                guard let limit = Int(value) else { throw ReadFailure(.badRequest, "limit=\(value): give a whole number of rows", code: "invalidQuery") }
                query.limit = limit
            case "order":
                let parts = value.split(separator: ".", omittingEmptySubsequences: false)
                guard (1 ... 2).contains(parts.count), !parts[0].isEmpty, parts.count == 1 || parts[1] == "asc" || parts[1] == "desc" else {
                    throw ReadFailure(.badRequest, "order=\(value): write order=<column>, order=<column>.asc or order=<column>.desc", code: "invalidQuery")
                }
                query.order = ViewOrder(column: String(parts[0]), descending: parts.count == 2 && parts[1] == "desc")
            case "after":
                query.after = value
            case "min_position":
                continue
            case _ where name.hasPrefix("key."):
                named[String(name.dropFirst(4))] = value
            default:
                guard let dot = value.firstIndex(of: "."), let op = ViewFilter.Operator(rawValue: String(value[..<dot])) else {
                    throw ReadFailure(
                        .badRequest,
                        "\(name)=\(value): a filter is <column>=<operator>.<value> with an operator of "
                            + ViewFilter.Operator.allCases.map(\.rawValue).joined(separator: ", ") + " (e.g. status=eq.shipped)",
                        code: "invalidQuery")
                }
                query.filters.append(ViewFilter(column: name, op: op, value: String(value[value.index(after: dot)...])))
            }
        }
        if !named.isEmpty {
            guard query.key == nil else {
                throw ReadFailure(.badRequest, "give the key in the path or as key.<column> parameters, not both", code: "invalidQuery")
            }
            query.key = .named(named)
        }
        return query
    }

    /// `Projector-Min-Position`, or `?min_position=`, merged when both are given.
    static func minimumPosition(_ request: Request) throws -> KafkaPosition? {
        var texts = request.headers[values: minPositionHeader]
        if let parameter = request.uri.queryParameters["min_position"] { texts.append(String(parameter)) }
        guard !texts.isEmpty else { return nil }
        var position = KafkaPosition()
        for text in texts {
            do {
                position.merge(try KafkaPosition(token: text.trimmingCharacters(in: .whitespaces)))
            } catch {
                throw ReadFailure(.badRequest, "Projector-Min-Position: \(error)", code: "invalidPosition")
            }
        }
        return position
    }

    /// `Prefer: wait=N` (RFC 7240), at most ``ReadLimits/maxWait``.
    func preferredWait(_ request: Request) throws -> Duration? {
        for header in request.headers[values: Self.preferHeader] {
            for preference in header.split(whereSeparator: { $0 == "," || $0 == ";" }) {
                let parts = preference.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, parts[0].lowercased() == "wait" else { continue }
                guard let seconds = Double(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))), seconds >= 0, seconds.isFinite else {
                    throw ReadFailure(.badRequest, "Prefer: wait=\(parts[1]): give a number of seconds", code: "invalidWait")
                }
                let wait = Duration.milliseconds(Int64(seconds * 1000))
                guard wait <= limits.maxWait else {
                    throw ReadFailure(.badRequest, "Prefer: wait=\(parts[1]) is over this server's limit of \(Self.seconds(limits.maxWait)) s; "
                        + "ask for at most wait=\(Self.seconds(limits.maxWait))", code: "invalidWait")
                }
                return wait
            }
        }
        return nil
    }

    // MARK: - Positions and answers

    static let positionHeader = HTTPFields.Element.Name("Projector-Position")!
    static let minPositionHeader = HTTPFields.Element.Name("Projector-Min-Position")!
    static let preferenceApplied = HTTPFields.Element.Name("Preference-Applied")!
    static let preferHeader = HTTPFields.Element.Name("Prefer")!

    static func position(of view: ViewDescription) -> KafkaPosition {
        KafkaPosition(offsets: offsets(view.checkpoints), generation: view.generation)
    }

    static func offsets(_ checkpoints: [Checkpoint]) -> [String: [Int32: Int64]] {
        checkpoints.reduce(into: [:]) { $0[$1.topic, default: [:]][$1.partition] = $1.nextOffset }
    }

    /// 503: the view has not reached the requested position (at once, or after waiting); `behind`
    /// lists the partitions of `awaited` (the part of `minimum` the read waits for) still ahead.
    static func behind(_ minimum: KafkaPosition, _ awaited: KafkaPosition, _ position: KafkaPosition, waited: Duration?) -> Response {
        let partitions = awaited.partitionsAhead(of: position).map { "\($0.topic)/\($0.partition)" }
        let message = waited.map { "the view did not reach the requested position within \(seconds($0)) s" }
            ?? "the view has not reached the requested position; add Prefer: wait=<seconds> to wait for it"
        var json = JSONText()
        json.raw("{\"error\":")
        json.string(message)
        json.raw(",\"code\":\"positionNotReached\",\"position\":")
        json.string(position.token)
        json.raw(",\"min_position\":")
        json.string(minimum.token)
        json.raw(",\"behind\":[")
        for (index, partition) in partitions.enumerated() {
            if index > 0 { json.raw(",") }
            json.string(partition)
        }
        json.raw("]}")
        return Self.json(.serviceUnavailable, json.text,
                         headers: [.retryAfter: "1", positionHeader: position.token, minPositionHeader: minimum.token])
    }

    static func seconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return value == value.rounded() ? String(Int64(value)) : String(value)
    }

    static func json(_ status: HTTPResponse.Status, _ text: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, code: String, headers: HTTPFields = [:]) -> Response {
        var json = JSONText()
        json.raw("{\"error\":")
        json.string(message)
        json.raw(",\"code\":")
        json.string(code)
        json.raw("}")
        return Self.json(status, json.text, headers: headers)
    }
}

/// A request the read API refuses, with its status and message.
struct ReadFailure: Error {
    var status: HTTPResponse.Status
    var message: String
    var code: String
    var headers: HTTPFields

    init(_ status: HTTPResponse.Status, _ message: String, code: String = "tooManyWaits", headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers
    }
}
