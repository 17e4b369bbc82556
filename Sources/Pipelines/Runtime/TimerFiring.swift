import ProjectorModel

/// The firing whose handler is running: the ids its emitted records take.
struct TimerFiring {
    /// `Timers.firingID`: the records' `projector.id` is this and `/<emit number>`.
    var id: String
    /// How many timers fired before it ahead of the same event (`Timers.outboxEmit`).
    var ordinal: Int
}

/// The due timers of one batch, per source partition: what decides, before each event, which
/// timers fire (pipelines/README.md, "Timers").
///
/// A partition's stored timers due up to the latest timestamp of the batch in that partition are
/// read once, with one key range of the queue table, when the batch reaches that partition;
/// timers that `schedule:` sets during the batch join from the change set. A queued timer is
/// checked against the change set when it comes up, so a timer cancelled, replaced or fired since
/// is skipped.
struct TimerClock {
    /// One pending timer: its firing order and its queue entry in the change set.
    struct Pending {
        var order: [ViewValue]
        var entry: Int
    }

    struct Partition {
        var topic: Int
        var partition: Int32
        /// The latest timestamp of the batch's messages of this partition.
        var latest: Int64
        var loaded = false
        /// A binary min-heap by (due, event, key).
        var heap: [Pending] = []

        mutating func push(_ pending: Pending) {
            heap.append(pending)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard ViewValue.precedes(heap[child].order, heap[parent].order) else { break }
                heap.swapAt(child, parent)
                child = parent
            }
        }

        mutating func pop() -> Pending {
            let top = heap[0]
            let last = heap.removeLast()
            guard !heap.isEmpty else { return top }
            heap[0] = last
            var parent = 0
            while true {
                let (left, right) = (2 * parent + 1, 2 * parent + 2)
                var smallest = parent
                if left < heap.count, ViewValue.precedes(heap[left].order, heap[smallest].order) { smallest = left }
                if right < heap.count, ViewValue.precedes(heap[right].order, heap[smallest].order) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
            return top
        }
    }

    let timers: Int
    let queue: Int
    var partitions: [Partition] = []
    /// How many of the change set's `scheduled` entries are in the heaps: none when a batch starts,
    /// so a rebuild window's earlier batches' timers, which the store does not hold yet, join too.
    private var collected = 0

    /// A clock for `messages`, with the plan's timers table (the queue table follows it).
    init(timers: Int, messages: UnsafeBufferPointer<RawMessage>) {
        self.timers = timers
        queue = timers + 1
        // Few partitions per batch: a linear scan beats hashing every message.
        for message in messages {
            guard let timestamp = message.timestamp else { continue }
            if let index = partitions.firstIndex(where: { $0.topic == message.topic && $0.partition == message.partition }) {
                partitions[index].latest = max(partitions[index].latest, timestamp)
            } else {
                partitions.append(Partition(topic: message.topic, partition: message.partition, latest: timestamp))
            }
        }
    }

    /// Moves the queue entries `schedule:` set since the clock last looked into their
    /// partitions' heaps.
    mutating func collect(_ batch: inout ChangeSet, topics: [String]) {
        while collected < batch.scheduled.count {
            let entry = batch.scheduled[collected]
            collected += 1
            guard let row = batch.row(entry), case .text(let topic) = row[Timers.QueueColumn.sourceTopic],
                  case .integer(let partition) = row[Timers.QueueColumn.sourcePartition],
                  let index = partitions.firstIndex(where: { topics.indices.contains($0.topic) && topics[$0.topic] == topic && Int64($0.partition) == partition })
            else { continue }
            partitions[index].push(Pending(order: Self.order(of: row), entry: entry))
        }
    }

    /// Reads the partition's stored due timers, the first time the batch reaches it.
    mutating func load(_ index: Int, topic: String, _ batch: inout ChangeSet, _ rows: inout some RowReader) throws {
        partitions[index].loaded = true
        let prefix: [ViewValue] = [.text(topic), .integer(Int64(partitions[index].partition))]
        for row in try rows.rows(in: queue, keyPrefix: prefix, upTo: .integer(partitions[index].latest)) {
            let entry = batch.entry(view: queue, key: Array(row.prefix(5)), stored: row)
            let timer = Timers.row(fromQueue: row)
            _ = batch.entry(view: timers, key: [timer[Timers.Column.event], timer[Timers.Column.key]], stored: timer)
            partitions[index].push(Pending(order: Self.order(of: row), entry: entry))
        }
    }

    /// (due, event, key) of a queue row.
    static func order(of row: [ViewValue]) -> [ViewValue] {
        [row[Timers.QueueColumn.due], row[Timers.QueueColumn.event], row[Timers.QueueColumn.key]]
    }
}

extension Plan {
    /// Fires, in (due, event, key) order, every timer of the message's partition due at or before
    /// its timestamp, each in its own undo scope, as the pipeline's handler for the timer's event
    /// on a synthetic message (key: the timer's key; value: the type and `data`; timestamp: due).
    /// - Returns: the error that stops the batch before this message (`on_error: fail`; the
    ///   timers fired ahead of it stay, to fire again on the next run), or nil. Under `skip` and `dead-letter` a failing timer is dropped
    ///   and counted as skipped: it has no source record to dead-letter.
    /// - Throws: only what `rows` throws.
    func fireTimers(
        before message: RawMessage, at index: Int, _ clock: inout TimerClock, _ batch: inout ChangeSet,
        _ slots: UnsafeMutableBufferPointer<Slot>, _ rows: inout some RowReader,
        _ counters: inout PlanResult.Counters, _ ignoredTypes: inout IgnoredTypeCounts
    ) throws -> EventError? {
        clock.collect(&batch, topics: pipeline.topics)
        guard let now = message.timestamp, pipeline.topics.indices.contains(message.topic),
              let p = clock.partitions.firstIndex(where: { $0.topic == message.topic && $0.partition == message.partition })
        else { return nil }
        let topic = pipeline.topics[message.topic]
        if !clock.partitions[p].loaded { try clock.load(p, topic: topic, &batch, &rows) }
        var ordinal = 0
        while let next = clock.partitions[p].heap.first, case .integer(let due) = next.order[0], due <= now {
            _ = clock.partitions[p].pop()
            guard let row = batch.row(next.entry), case .text(let event) = row[Timers.QueueColumn.event],
                  case .text(let key) = row[Timers.QueueColumn.key]
            else { continue }
            // Under `fail` the firings ahead of one event share an undo scope: a failing one undoes
            // them all, so a rerun fires them again with the same ids and outbox keys.
            if pipeline.onError != .fail || ordinal == 0 { batch.beginEvent() }
            let timerEntry = try batch.entry(view: clock.timers, key: [.text(event), .text(key)], rows: &rows)
            batch.set(timerEntry, nil)
            batch.set(next.entry, nil)
            batch.firing = TimerFiring(
                id: Timers.firingID(pipeline: pipeline.name, topic: topic, partition: message.partition, due: due, event: event, key: key),
                ordinal: ordinal)
            ordinal += 1
            var value = firedValue(event: event, data: row[Timers.QueueColumn.data])
            let keyBytes = Array(key.utf8)
            var noOps = 0
            var parkKey: String?
            do {
                _ = try value.withUTF8 { valueBytes in
                    try keyBytes.withUnsafeBytes { keyBuffer in
                        let fired = RawMessage(key: keyBuffer, value: UnsafeRawBufferPointer(valueBytes), topic: message.topic,
                                               partition: message.partition, offset: message.offset, timestamp: due)
                        return try process(fired, &batch, slots, &rows, &noOps, &parkKey, &ignoredTypes)
                    }
                }
                batch.firing = nil
            } catch let failure as EventFailure {
                batch.firing = nil
                batch.rollbackEvent()
                let reason = "timer `\(event)` of key `\(key)` due at \(due), fired before this event: \(failure.message)"
                if pipeline.onError == .fail {
                    return EventError(messageIndex: index, topic: message.topic, partition: message.partition, offset: message.offset,
                                      code: failure.code, message: reason, key: nil)
                }
                batch.beginEvent()
                batch.set(timerEntry, nil)
                batch.set(next.entry, nil)
                counters.skipped += 1
            }
            clock.collect(&batch, topics: pipeline.topics)
        }
        return nil
    }

    /// The fired event's value: the type at `source.type`'s path, then the members of `data`.
    private func firedValue(event: String, data: ViewValue) -> String {
        let names = pipeline.typePath.components.compactMap { component -> String? in
            if case .member(let name) = component { return name }
            return nil
        }
        var typed = Value.quoteJSON(event)
        for name in names.dropFirst().reversed() { typed = "{" + Value.quoteJSON(name) + ":" + typed + "}" }
        var json = "{" + Value.quoteJSON(names.first ?? "type") + ":" + typed
        if case .text(let object) = data, object.count > 2 { json += "," + object.dropFirst().dropLast() }
        return json + "}"
    }
}
