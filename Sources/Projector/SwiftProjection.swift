internal import Foundation
public import Pipelines
public import ProjectorModel

/// Runs a ``CodeProjection`` as a worker ``Projection``: decodes each message's JSON envelope,
/// applies it all or nothing, and follows the projection's error policy.
///
/// Decoding uses Foundation's `JSONDecoder`, so a code projection allocates per event, unlike a
/// compiled YAML pipeline; use it for logic YAML cannot express.
public struct SwiftProjection<Code: CodeProjection>: Projection {
    private struct Envelope: Decodable {
        var eventType: String
        var eventId: String?
        var timestamp: String?
        var version: Int?
        var data: Code.Payload
    }

    /// The projection written in Swift.
    public let code: Code

    /// Wraps a projection written in Swift.
    public init(_ code: Code) { self.code = code }

    /// The projection's name.
    public var name: String { code.name }
    /// The projection's version.
    public var version: Int { code.version }
    /// The projection's topics.
    public var topics: [String] { code.topics }
    /// The projection's views.
    public var views: [ViewDefinition] { code.views }
    /// The projection's error policy.
    public var errorPolicy: ErrorPolicy { code.errorPolicy }

    /// Identity: the name, version and view definitions (code itself cannot be hashed: bump
    /// ``CodeProjection/version`` when it changes what the views hold).
    public var definitionHash: String {
        let definition = "swift:\(code.name):\(code.version):" + code.views.map { view in
            view.name + "(" + view.columns.map { "\($0.name) \($0.type.rawValue) \($0.defaultValue)" }.joined(separator: ",")
                + ";key=\(view.keyColumns))"
        }.joined(separator: "|")
        return DefinitionHash.hex(of: definition)
    }

    /// Decodes and applies each message in order.
    public func run(_ messages: UnsafeBufferPointer<RawMessage>, rows: inout some RowReader) throws -> PlanResult {
        var editor = ViewEditor(views: code.views, reader: rows, expectedRows: messages.count)
        var errors: [EventError] = []
        var counters = PlanResult.Counters()
        var stoppedAt: Int?
        let decoder = JSONDecoder()
        for (index, message) in messages.enumerated() {
            editor.changeSet.beginEvent()
            do {
                guard let value = message.value else {
                    counters.tombstonesSkipped += 1
                    continue
                }
                let envelope = try decoder.decode(Envelope.self, from: Data(value))
                let event = DecodedEvent(
                    type: envelope.eventType, eventID: envelope.eventId, timestamp: envelope.timestamp,
                    version: envelope.version, payload: envelope.data,
                    key: message.key.map { String(decoding: $0, as: UTF8.self) },
                    topic: code.topics[message.topic], partition: message.partition, offset: message.offset)
                try code.apply(event, to: &editor)
                counters.applied += 1
            } catch let failure as StoreFailure {
                throw failure.underlying
            } catch {
                editor.changeSet.rollbackEvent()
                errors.append(EventError(messageIndex: index, topic: message.topic, partition: message.partition,
                                         offset: message.offset, code: Self.code(of: error), message: "\(error)"))
                switch code.errorPolicy {
                case .fail: stoppedAt = index
                case .skip: counters.skipped += 1
                case .deadLetter: counters.deadLettered += 1
                }
                if stoppedAt != nil { break }
            }
        }
        return PlanResult(changes: editor.changeSet.changes, errors: errors, stoppedAt: stoppedAt, counters: counters)
    }

    private static func code(of error: any Error) -> EventError.Code {
        error is DecodingError ? .malformedJSON : EventError.Code("projectionFailed")
    }
}
