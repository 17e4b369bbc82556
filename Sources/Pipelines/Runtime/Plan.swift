import Foundation
public import ProjectorModel

/// A pipeline compiled for execution: routes each message, evaluates its operations and coalesces
/// the batch into one `ViewChange` per touched row.
///
/// ```swift
/// let plan = Plan(try Pipeline.load(path: "pipelines/order_summary.yaml"))
/// let result = try messages.withUnsafeBufferPointer { try plan.run($0, rows: &transaction) }
/// ```
///
/// - Important: `run` is reentrant (the plan is immutable), but the messages' buffers must stay
///   valid until it returns; nothing of them is kept.
public final class Plan: Sendable {
    /// Every table the plan reads and writes: the declared views in order, then internal tables
    /// (`_projector_seen_<pipeline>` when `source.dedupe_by` is set, then `_projector_parked_<pipeline>`
    /// when `dead_letter.park_key` is set, then `_projector_outbox_<pipeline>` when it has `emit:` operations,
    /// then `_projector_timers_<pipeline>` and `_projector_timer_queue_<pipeline>` when it has timers).
    public let views: [ViewDefinition]
    /// The index in ``views`` of the parked keys table (`ParkedKeys`), when keys are parked.
    public let parkedKeysView: Int?
    /// The index in ``views`` of the outbox table (`Outbox`), when the pipeline has `emit:` operations.
    public let outboxView: Int?
    /// The index in ``views`` of the timers table (`Timers`; the queue table follows it), when the
    /// pipeline has `schedule:` operations.
    public let timersView: Int?
    /// The pipeline this plan runs.
    public let pipeline: Pipeline

    struct CompiledHandler: Sendable {
        /// The operations, as the chain `process` applies (nil: none).
        var operations: OperationChain?
        var identity: [Access]
        /// The access table of each upcast version (`from:`): a few entries, found by a scan
        /// (a dictionary's lookup hashed the version on every event).
        var byVersion: [(version: Int, access: [Access])]
        /// The `events:` requirements of the handler's type: access-table id, path and JSON type.
        var required: [(id: Int, path: JSONPath, type: EventSchema.JSONType)]
    }

    private let trie: PathTrie
    private let typeSlot: Int
    private let versionSlot: Int?
    /// Handler lookup by type name: the names' UTF-8 concatenated, and (start, count, handler) per route,
    /// so that routing a message touches no reference-counted value.
    private let routeNames: [UInt8]
    private let routes: [(start: Int, count: Int, handler: Int)]
    private let handlers: [CompiledHandler]
    private let wildcard: Int?
    private let tombstone: Int?
    private let key: CompiledExpression?
    let filter: CompiledExpression?
    private let dedupe: CompiledExpression?
    private let dedupeView: Int?
    private let emptyAccess: [Access]
    /// The access table without upcasts: what `filter` reads for an event of a type without handler.
    private let identity: [Access]

    /// Compiles a validated pipeline.
    public init(_ pipeline: Pipeline) {
        self.pipeline = pipeline
        var views = pipeline.views
        if pipeline.dedupeBy != nil {
            dedupeView = views.count
            views.append(ViewDefinition(
                name: "_projector_seen_\(pipeline.name)",
                columns: [ColumnDefinition(name: "event_id", type: .text, defaultValue: .null)],
                keyColumns: [0]
            ))
        } else {
            dedupeView = nil
        }
        if pipeline.onError == .deadLetter && pipeline.deadLetter.parksKey {
            parkedKeysView = views.count
            views.append(ParkedKeys.definition(pipeline: pipeline.name))
        } else {
            parkedKeysView = nil
        }
        let outboxView = pipeline.emits ? views.count : nil
        if pipeline.emits { views.append(Outbox.definition(pipeline: pipeline.name)) }
        self.outboxView = outboxView
        let timersView = pipeline.hasTimers ? views.count : nil
        if pipeline.hasTimers { views += [Timers.definition(pipeline: pipeline.name), Timers.queueDefinition(pipeline: pipeline.name)] }
        self.timersView = timersView
        self.views = views

        var logical: [JSONPath: Int] = [:]
        var logicalPaths: [JSONPath] = []
        let pathID: (JSONPath) -> Int = { path in
            if let id = logical[path] { return id }
            logical[path] = logicalPaths.count
            logicalPaths.append(path)
            return logicalPaths.count - 1
        }
        func compile(_ expr: Expr?, _ columns: [ColumnDefinition]) -> CompiledExpression? {
            expr.map { CompiledExpression.compile($0, columns: columns, paths: pathID) }
        }
        key = compile(pipeline.key, [])
        filter = compile(pipeline.filter, [])
        dedupe = compile(pipeline.dedupeBy, [])
        var requiredByHandler: [[(id: Int, path: JSONPath, type: EventSchema.JSONType)]] = []
        for handler in pipeline.handlers {
            let fields = pipeline.events?.first { $0.type == handler.type }?.required ?? []
            requiredByHandler.append(fields.map { (pathID($0.path), $0.path, $0.type) })
        }
        var operationsByHandler: [[CompiledOperation]] = []
        for handler in pipeline.handlers {
            operationsByHandler.append(handler.operations.map { op in
                var op = op
                if op.emit != nil, let outboxView { op.view = outboxView }
                if op.schedule != nil, let timersView { op.view = timersView }
                return CompiledOperation(op, view: views[op.view], views: views) { expr, lookups in
                    CompiledExpression.compile(expr, columns: views[op.view].columns, paths: pathID, lookups: lookups)
                }
            })
        }

        var trie = PathTrie()
        let rawTypeSlot = trie.insert(pipeline.typePath)
        let rawVersionSlot = pipeline.versionPath.map { trie.insert($0) }
        let identity = logicalPaths.map { Access.slot(trie.insert($0)) }
        var compiled: [CompiledHandler] = []
        for (index, handler) in pipeline.handlers.enumerated() {
            var byVersion: [(version: Int, access: [Access])] = []
            if let steps = pipeline.upcasts[handler.type], !steps.isEmpty {
                for start in steps.map(\.from) {
                    var chain: [UpcastStep] = []
                    var version = start
                    while let step = steps.first(where: { $0.from == version }) { chain.append(step); version += 1 }
                    byVersion.append((start, logicalPaths.map { Self.resolve($0, chain, chain.count, &trie) }))
                }
            }
            compiled.append(CompiledHandler(
                operations: OperationChain.chain(operationsByHandler[index]), identity: identity, byVersion: byVersion, required: requiredByHandler[index]))
        }
        let map = trie.finish()
        func remap(_ access: Access) -> Access {
            switch access {
            case .slot(let s): return .slot(map[s])
            case .firstPresent(let a, let b): return .firstPresent(remap(a), remap(b))
            case .nonNull(let a, let b): return .nonNull(remap(a), remap(b))
            default: return access
            }
        }
        handlers = compiled.map { h in
            CompiledHandler(operations: h.operations, identity: h.identity.map(remap),
                            byVersion: h.byVersion.map { ($0.version, $0.access.map(remap)) }, required: h.required)
        }
        emptyAccess = identity.map { _ in Access.missing }
        self.identity = identity.map(remap)
        typeSlot = map[rawTypeSlot]
        versionSlot = rawVersionSlot.map { map[$0] }
        self.trie = trie
        var routeNames: [UInt8] = []
        var routes: [(start: Int, count: Int, handler: Int)] = []
        var wildcard: Int?
        var tombstone: Int?
        for (index, handler) in pipeline.handlers.enumerated() {
            switch handler.type {
            case "*": wildcard = index
            case "_tombstone": tombstone = index
            default:
                routes.append((routeNames.count, handler.type.utf8.count, index))
                routeNames.append(contentsOf: handler.type.utf8)
            }
        }
        self.routeNames = routeNames
        self.routes = routes
        self.wildcard = wildcard
        self.tombstone = tombstone
    }

    /// Where a path read after applying `chain[..<count]` comes from in the original event.
    private static func resolve(_ path: JSONPath, _ chain: [UpcastStep], _ count: Int, _ trie: inout PathTrie) -> Access {
        guard count > 0 else { return .slot(trie.insert(path)) }
        let step = chain[count - 1]
        func beforeDefaults() -> Access {
            for rename in step.renames where path.hasPrefix(rename.to) {
                let moved = JSONPath(components: rename.from.components + path.components.dropFirst(rename.to.components.count))
                return .firstPresent(resolve(moved, chain, count - 1, &trie), resolve(path, chain, count - 1, &trie))
            }
            for rename in step.renames where path.hasPrefix(rename.from) { return .missing }
            return resolve(path, chain, count - 1, &trie)
        }
        if let value = step.defaults.first(where: { $0.path == path }) {
            let constant: ConstantValue
            switch value.value.kind {
            case .integer(let v): constant = .integer(v)
            case .real(let v): constant = .real(v)
            case .boolean(let v): constant = .boolean(v)
            case .text(let s): constant = .text(s)
            default: constant = (try? Evaluator.constantValue(value.value)) ?? .null
            }
            return .nonNull(beforeDefaults(), .constant(constant))
        }
        return beforeDefaults()
    }

    // MARK: Running a batch

    enum Outcome { case applied, ignoredUnknownType, filtered, deduplicated, tombstoneSkipped }

    /// Runs a batch of messages.
    /// - Parameters:
    ///   - messages: the batch, in consumption order.
    ///   - rows: the store's view of the current rows; read at most once per touched key.
    /// - Returns: the coalesced changes, the failed events and the counters.
    /// - Throws: only what `rows` throws.
    public func run(_ messages: UnsafeBufferPointer<RawMessage>, rows: inout some RowReader) throws -> PlanResult {
        var batch = ChangeSet(expectedRows: messages.count * 2, defersReads: rows.writesAssignedColumns)
        var result = try run(messages, rows: &rows, into: &batch)
        result.changes = batch.changes
        return result
    }

    /// Runs a batch into `batch`, a change set the caller keeps across batches (a rebuild's window):
    /// rows it holds are not read again, and the result's `changes` are empty (`batch.changes` has them).
    package func run(_ messages: UnsafeBufferPointer<RawMessage>, rows: inout some RowReader, into batch: inout ChangeSet) throws -> PlanResult {
        var counters = PlanResult.Counters()
        var errors: [EventError] = []
        var stoppedAt: Int?
        var ignoredTypes = IgnoredTypeCounts()
        let slots = UnsafeMutableBufferPointer<Slot>.allocate(capacity: max(trie.slotCount, 1))
        defer { slots.deallocate() }
        slots.initialize(repeating: .missing)
        var clock = timersView.map { TimerClock(timers: $0, messages: messages) }
        for (index, message) in messages.enumerated() {
            if clock != nil, let failure = try fireTimers(before: message, at: index, &clock!, &batch, slots, &rows, &counters, &ignoredTypes) {
                errors.append(failure)
                stoppedAt = index
                break
            }
            batch.beginEvent()
            var noOps = 0
            var parkKey: String?
            do {
                switch try process(message, &batch, slots, &rows, &noOps, &parkKey, &ignoredTypes) {
                case .applied: counters.applied += 1; counters.noOpUpdates += noOps
                case .ignoredUnknownType: counters.ignoredUnknownType += 1
                case .filtered: counters.filtered += 1
                case .deduplicated: counters.deduplicated += 1
                case .tombstoneSkipped: counters.tombstonesSkipped += 1
                }
            } catch let failure as EventFailure {
                batch.rollbackEvent()
                errors.append(EventError(
                    messageIndex: index, topic: message.topic, partition: message.partition, offset: message.offset,
                    code: failure.code, message: failure.message, key: parkKey
                ))
                if let parkKey {
                    try park(parkKey, behind: message, failure: failure, &batch, &rows, &counters)
                }
                switch pipeline.onError {
                case .fail: stoppedAt = index
                case .skip: counters.skipped += 1
                case .deadLetter: counters.deadLettered += 1
                }
                if stoppedAt != nil { break }
            }
        }
        var result = PlanResult(changes: [], errors: errors, stoppedAt: stoppedAt, counters: counters)
        if counters.ignoredUnknownType > 0 { result.ignoredTypes = ignoredTypes.byName }
        return result
    }

    func process(
        _ message: RawMessage, _ batch: inout ChangeSet, _ slots: UnsafeMutableBufferPointer<Slot>,
        _ rows: inout some RowReader, _ noOps: inout Int, _ parkKey: inout String?, _ ignoredTypes: inout IgnoredTypeCounts
    ) throws -> Outcome {
        var kafkaKey = Value.null
        if let key = message.key {
            if let base = key.baseAddress, key.count > 0 {
                // A `.string` is valid UTF-8, as the scanner checks the message's: a key that is not
                // becomes the text its bytes decode to (what storing it gave before).
                let bytes = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: key.count)
                kafkaKey = Self.isValidUTF8(bytes) ? .string(Span(base: bytes.baseAddress!, count: bytes.count), escaped: false)
                    : .text(String(decoding: bytes, as: UTF8.self))
            } else {
                kafkaKey = .text("")
            }
        }
        if parkedKeysView != nil && (key == nil || message.value == nil) {
            try checkParked(kafkaKey, &parkKey, &batch, &rows)
        }
        let topic = message.topic >= 0 && message.topic < pipeline.topics.count ? pipeline.topics[message.topic] : ""
        guard let value = message.value else {
            guard let tombstone else { return .tombstoneSkipped }
            let context = EvaluationContext(bytes: UnsafeBufferPointer(start: nil, count: 0), slots: slots, access: emptyAccess, key: kafkaKey,
                              topic: topic, partition: message.partition, offset: message.offset, timestamp: message.timestamp)
            try handlers[tombstone].operations?.apply(context, &batch, &rows, &noOps)
            return .applied
        }
        let bytes = UnsafeBufferPointer(start: value.baseAddress?.assumingMemoryBound(to: UInt8.self), count: value.count)
        guard bytes.count > 0, bytes.baseAddress != nil else {
            throw EventFailure(code: .malformedJSON, message: "the value is empty (a tombstone is a null value, not an empty one)")
        }
        var scanner = JSONScanner(bytes)
        let rootKind: Slot.Kind
        do {
            rootKind = try scanner.scanDocument(trie: trie, slots: slots)
        } catch {
            throw EventFailure(code: .malformedJSON, message: "malformed JSON at byte \(error.offset): \(error.message)")
        }
        guard rootKind == .object else {
            throw EventFailure(code: .notAnObject, message: "the value is a JSON \(rootKind), not an object")
        }
        let typeValue = slots[typeSlot]
        guard typeValue.kind == .string else {
            throw EventFailure(code: .missingType, message: typeValue.kind == .missing || typeValue.kind == .null
                ? "the event type `\(pipeline.typePath)` is missing" : "the event type `\(pipeline.typePath)` is a \(typeValue.kind), not a string")
        }
        var specific: Int?
        let typeBytes = UnsafeBufferPointer(rebasing: bytes[typeValue.start..<typeValue.end])
        func route(_ name: UnsafeBufferPointer<UInt8>) -> Int? {
            routeNames.withUnsafeBufferPointer { names in
                for route in routes where route.count == name.count
                    && (name.count == 0 || memcmp(names.baseAddress! + route.start, name.baseAddress!, name.count) == 0) {
                    return route.handler
                }
                return nil
            }
        }
        if typeValue.extra == 0 {
            specific = route(typeBytes)
        } else {
            specific = Array(JSONScanner.unescape(typeBytes).utf8).withUnsafeBufferPointer { route($0) }
        }
        guard specific != nil || wildcard != nil else {
            if pipeline.onUnknownType == .ignore {
                if typeValue.extra == 0 {
                    ignoredTypes.count(typeBytes)
                } else {
                    Array(JSONScanner.unescape(typeBytes).utf8).withUnsafeBufferPointer { ignoredTypes.count($0) }
                }
                return .ignoredUnknownType
            }
            // The documented order puts `filter` before the handlers: an event it drops is never an error.
            let context = EvaluationContext(bytes: bytes, slots: slots, access: identity, key: kafkaKey, topic: topic,
                                            partition: message.partition, offset: message.offset, timestamp: message.timestamp)
            if try !passesFilter(context) { return .filtered }
            throw EventFailure(code: .unknownType, message: "no handler for event type `\(String(decoding: typeBytes, as: UTF8.self))`")
        }
        // The handler by index: copying its struct would retain and release each of its arrays.
        let routed = specific ?? wildcard!
        var access = handlers[routed].identity
        if !handlers[routed].byVersion.isEmpty, let versionSlot {
            let slot = slots[versionSlot]
            var version: Int64 = 1
            switch slot.kind {
            case .missing, .null: break
            case .number where slot.extra == 1:
                guard case .integer(let v) = try Evaluator.number(UnsafeBufferPointer(rebasing: bytes[slot.start..<slot.end]), integral: true, path: pipeline.versionPath!) else { break }
                version = v
            default:
                throw EventFailure(code: .invalidVersion, message: "the version `\(pipeline.versionPath!)` is a \(slot.kind), not an integer")
            }
            // By index: iterating the entries would copy (retain) each one's table.
            for index in handlers[routed].byVersion.indices where Int64(handlers[routed].byVersion[index].version) == version {
                access = handlers[routed].byVersion[index].access
                break
            }
        }
        var context = EvaluationContext(bytes: bytes, slots: slots, access: access, key: kafkaKey, topic: topic,
                          partition: message.partition, offset: message.offset, timestamp: message.timestamp)
        if try !passesFilter(context) { return .filtered }
        // Unwrapped in place: `if let` would copy (retain) the expression.
        if key != nil {
            let v = try Evaluator.evaluate(key!, context, row: [])
            if v.isNull {
                // A required path missing is the better reason when it is what made the key null.
                if !handlers[routed].required.isEmpty { try checkRequired(handlers[routed].required, context) }
                throw EventFailure(code: .nullKey, message: "`source.key` (\(pipeline.key!.canonical)) is null")
            }
            context.key = v
            if parkedKeysView != nil { try checkParked(v, &parkKey, &batch, &rows) }
        }
        // After the key, so that under `park_key` an event missing a required path parks its key.
        if !handlers[routed].required.isEmpty { try checkRequired(handlers[routed].required, context) }
        var seen: (entry: Int, id: String)?
        if let dedupe, let dedupeView {
            let v = try Evaluator.evaluate(dedupe, context, row: [])
            guard !v.isNull else { throw EventFailure(code: .missingEventID, message: "`dedupe_by` (\(pipeline.dedupeBy!.canonical)) is null") }
            guard let id = v.asText else { throw EventFailure(code: .typeMismatch, message: "`dedupe_by` gave \(v.typeName)") }
            let entry = try batch.entry(view: dedupeView, key: [.text(id)], rows: &rows)
            if batch.row(entry) != nil { return .deduplicated }
            seen = (entry, id)
        }
        if let specific { try handlers[specific].operations?.apply(context, &batch, &rows, &noOps) }
        if let wildcard { try handlers[wildcard].operations?.apply(context, &batch, &rows, &noOps) }
        if let seen { batch.set(seen.entry, [.text(seen.id)]) }
        return .applied
    }
}
