internal import Pipelines
public import ProjectorModel

/// A projection written in Swift, for what YAML does not express: it receives decoded events and
/// changes views through a ``ViewEditor``, in the same store transaction as the checkpoints.
///
/// ```swift
/// struct OrderTotals: CodeProjection {
///     struct Payload: Decodable, Sendable { var orderId: String; var totalAmount: Double? }
///     let name = "order_totals"
///     let version = 1
///     let topics = ["orders"]
///     let views = [ViewDefinition(name: "totals", columns: [
///         ColumnDefinition(name: "order_id", type: .text, defaultValue: .null),
///         ColumnDefinition(name: "total", type: .real, defaultValue: .real(0)),
///     ], keyColumns: [0])]
///
///     func apply(_ event: DecodedEvent<Payload>, to views: inout ViewEditor) throws {
///         guard event.type == "OrderCreated" else { return }
///         try views.upsert("totals", key: [.text(event.payload.orderId)]) { row in
///             row["total"] = .real(event.payload.totalAmount ?? 0)
///         }
///     }
/// }
/// let worker = Worker(projection: SwiftProjection(OrderTotals()), store: store, configuration: configuration)
/// ```
public protocol CodeProjection: Sendable {
    /// The type of the envelope's `data` member.
    associatedtype Payload: Decodable & Sendable

    /// The pipeline name (a SQL-safe identifier, `[a-z][a-z0-9_]*`).
    var name: String { get }
    /// The definition's version: bump it when the code changes what the views hold, then rebuild.
    var version: Int { get }
    /// The source topics.
    var topics: [String] { get }
    /// The views the projection writes.
    var views: [ViewDefinition] { get }
    /// What happens to an event whose decoding or `apply` throws; default `.fail`.
    var errorPolicy: ErrorPolicy { get }

    /// Applies one event. If it throws, nothing it changed is kept, and ``errorPolicy`` decides.
    func apply(_ event: DecodedEvent<Payload>, to views: inout ViewEditor) throws
}

extension CodeProjection {
    /// Events that fail stop the worker.
    public var errorPolicy: ErrorPolicy { .fail }
}

/// An event decoded for a ``CodeProjection``: the JSON envelope and where it came from.
public struct DecodedEvent<Payload: Decodable & Sendable>: Sendable {
    /// `eventType`.
    public var type: String
    /// `eventId`, when present.
    public var eventID: String?
    /// `timestamp`, when present.
    public var timestamp: String?
    /// `version`, when present.
    public var version: Int?
    /// `data`, decoded.
    public var payload: Payload
    /// The Kafka message key as UTF-8 text, when present.
    public var key: String?
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The offset.
    public var offset: Int64
}
