import ProjectorModel

/// The checks an event passes before its operations run (valid key bytes, `source.filter`,
/// `events:` requirements, parked keys) and the parking of a failed event's key.
extension Plan {
    /// Whether `bytes` are valid UTF-8; ASCII (most keys) is checked eight bytes at a time.
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let raw = UnsafeRawPointer(bytes.baseAddress!)
        var offset = 0
        var high: UInt64 = 0
        while offset + 8 <= bytes.count {
            high |= raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        while offset < bytes.count { high |= UInt64(bytes[offset]); offset += 1 }
        return high & 0x8080_8080_8080_8080 == 0 || String(validating: bytes, as: UTF8.self) != nil
    }

    /// Whether `source.filter` (if any) keeps the event. Inline, so that an event of a pipeline
    /// without a filter makes no call (which would take a copy of the context, retaining its
    /// access table and key).
    @inline(__always)
    func passesFilter(_ context: EvaluationContext) throws -> Bool {
        guard let filter else { return true }
        switch try Evaluator.evaluate(filter, context, row: []) {
        case .boolean(true): return true
        case .boolean(false), .null: return false
        case let other: throw EventFailure(code: .typeMismatch, message: "`filter` gave \(other.typeName), not a boolean")
        }
    }

    /// Fails the event (code `schema`) at the first `events:` requirement it does not meet.
    func checkRequired(_ required: [(id: Int, path: JSONPath, type: EventSchema.JSONType)], _ context: EvaluationContext) throws {
        for field in required {
            let value = try Evaluator.read(field.id, context, path: field.path)
            let fits: Bool
            switch (field.type, value) {
            case (_, .null): fits = false
            case (.any, _): fits = true
            case (.string, .text), (.string, .string): fits = true
            case (.number, .integer), (.number, .real), (.integer, .integer): fits = true
            case (.boolean, .boolean): fits = true
            case (.object, .composite(_, let elements)): fits = elements < 0
            case (.array, .composite(_, let elements)): fits = elements >= 0
            default: fits = false
            }
            if !fits {
                throw EventFailure(code: .schema, message: value.isNull
                    ? "`\(field.path)` is missing (`events` requires a \(field.type.rawValue))"
                    : "`\(field.path)` is \(value.typeName), not \(field.type.rawValue) (as `events` requires)")
            }
        }
    }

    /// Under `park_key`: records the event's key in `parkKey` and fails the event if the key is parked.
    func checkParked(_ key: Value, _ parkKey: inout String?, _ batch: inout ChangeSet, _ rows: inout some RowReader) throws {
        guard let parkedKeysView, let text = key.asText else { return }
        parkKey = text
        let entry = try batch.entry(view: parkedKeysView, key: [.text(text)], rows: &rows)
        if let row = batch.row(entry) { throw EventFailure(code: .parked, message: ParkedKeys.reason(key: text, row: row)) }
    }

    /// Parks the key of a failed event behind it, unless the key is parked already.
    func park(
        _ key: String, behind message: RawMessage, failure: EventFailure, _ batch: inout ChangeSet,
        _ rows: inout some RowReader, _ counters: inout PlanResult.Counters
    ) throws {
        guard let parkedKeysView else { return }
        if failure.code == .parked { counters.parked += 1; return }
        let entry = try batch.entry(view: parkedKeysView, key: [.text(key)], rows: &rows)
        guard batch.row(entry) == nil else { return }
        let topic = pipeline.topics.indices.contains(message.topic) ? pipeline.topics[message.topic] : ""
        batch.set(entry, ParkedKeys.row(key: key, topic: topic, partition: message.partition, offset: message.offset))
    }
}
