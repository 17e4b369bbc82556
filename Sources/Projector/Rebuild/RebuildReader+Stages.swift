internal import Foundation
internal import KafkaClient
internal import Logging
internal import Views
internal import ProjectorModel

/// The stages of a rebuild: where it stops, its shadow tables, following the live views, the swap.
extension RebuildReader {
    // MARK: Where to stop

    /// The `--until` offsets per slot; every source partition listed (when required), none extra,
    /// each within the partition's watermarks.
    func untilOffsets(_ checkpoints: [Checkpoint], requiresEveryPartition: Bool) throws(ProjectorError) -> [Int64] {
        let name = projection.name
        var targets: [Int64?] = Array(repeating: nil, count: partitions.count)
        for checkpoint in checkpoints {
            guard let slot = slot(topic: checkpoint.topic, partition: checkpoint.partition) else {
                throw ProjectorError(
                    code: .usage,
                    message: "rebuild \(name): --until names \(checkpoint.topic):\(checkpoint.partition), which is not a source "
                        + "partition (sources: \(partitions.map { "\($0.topic):\($0.partition)" }.joined(separator: ",")))")
            }
            if checkpoint.nextOffset > high[slot] {
                throw ProjectorError(
                    code: .usage,
                    message: "rebuild \(name): --until \(checkpoint.topic):\(checkpoint.partition):\(checkpoint.nextOffset) is past "
                        + "the end of the partition (high watermark \(high[slot]))")
            }
            if checkpoint.nextOffset < low[slot] {
                throw ProjectorError(
                    code: .usage,
                    message: "rebuild \(name): --until \(checkpoint.topic):\(checkpoint.partition):\(checkpoint.nextOffset) is before "
                        + "the earliest offset Kafka still keeps (\(low[slot])); the events before it are gone")
            }
            targets[slot] = checkpoint.nextOffset
        }
        let missing = partitions.indices.filter { targets[$0] == nil }
        if requiresEveryPartition && !missing.isEmpty {
            throw ProjectorError(
                code: .usage,
                message: "rebuild \(name): --until must give an offset for every source partition; missing "
                    + missing.map { "\(partitions[$0].topic):\(partitions[$0].partition)" }.joined(separator: ","))
        }
        return partitions.indices.map { targets[$0] ?? low[$0] }
    }

    /// Per slot, the first offset whose timestamp is past `milliseconds`, where the broker can look
    /// it up; else the high watermark, and reading stops at the first later timestamp instead.
    func untilTime(_ milliseconds: Int64) throws(ProjectorError) -> [Int64] {
        var times: [KafkaTopicPartition: Int64] = [:]
        for partition in partitions { times[partition] = milliseconds + 1 }
        var found: [KafkaTopicPartition: Int64?] = [:]
        do {
            found = try consumer.offsets(forTimes: times, timeout: .seconds(10))
        } catch {
            logger.warning("rebuild \(projection.name): the brokers could not look up offsets for the time (\(error)); reading timestamps instead")
        }
        return partitions.indices.map { slot in
            let offset = found[partitions[slot]] ?? nil
            return min(max(offset ?? high[slot], low[slot]), high[slot])
        }
    }

    func slot(topic: String, partition: Int32) -> Int? {
        guard let index = projection.topics.firstIndex(of: topic), partition >= 0,
              Int(partition) < slots[index].count, slots[index][Int(partition)] >= 0 else { return nil }
        return slots[index][Int(partition)]
    }

    // MARK: The shadow

    /// Prepares (or resumes) the shadow and starts each partition at its checkpoint.
    /// - Returns: whether an earlier shadow was resumed.
    mutating func prepareShadow(restarts: Bool) throws(ProjectorError) -> Bool {
        let name = projection.name
        do {
            if restarts { try store.dropShadow(pipeline: name) }
            let preparation = try store.prepareShadow(
                pipeline: name, version: projection.version, hash: projection.definitionHash, views: projection.views)
            position = low
            for checkpoint in try store.checkpoints(pipeline: name, target: .shadow) {
                if let slot = slot(topic: checkpoint.topic, partition: checkpoint.partition) {
                    position[slot] = max(checkpoint.nextOffset, low[slot])
                }
            }
            start = position
            isFetching = Array(repeating: false, count: partitions.count)
            return preparation == .resumed
        } catch {
            throw ProjectorError(wrapping: error, doing: "rebuild \(name): preparing the shadow tables")
        }
    }

    /// Starts the shadow over when it already went past a target (an earlier rebuild read further
    /// than this one may).
    mutating func restartIfAhead() throws(ProjectorError) {
        guard partitions.indices.contains(where: { position[$0] > target[$0] }) else { return }
        logger.warning("rebuild \(projection.name): the shadow left by an earlier rebuild read past this one's end; starting it over")
        _ = try prepareShadow(restarts: true)
    }

    /// Sets the shadow's checkpoints to the targets: the views are as of exactly those positions.
    func writeShadowCheckpoints() throws(ProjectorError) {
        do {
            try store.write(pipeline: projection.name, target: .shadow) { transaction in
                try transaction.setCheckpoints(partitions.indices.map { checkpoint(slot: $0, offset: target[$0]) })
            }
        } catch {
            throw ProjectorError(wrapping: error, doing: "rebuild \(projection.name)")
        }
    }

    func checkpoint(slot: Int, offset: Int64) -> Checkpoint {
        Checkpoint(topic: partitions[slot].topic, partition: partitions[slot].partition, nextOffset: offset)
    }

    /// Where this rebuild began reading each partition: the live dead letters it read are replaced
    /// by its own at the swap.
    var lettersReadFrom: [Checkpoint] { partitions.indices.map { checkpoint(slot: $0, offset: low[$0]) } }

    func swap() throws(ProjectorError) {
        do {
            try store.swap(pipeline: projection.name, newVersion: projection.version, newHash: projection.definitionHash,
                           time: nil, lettersReadFrom: lettersReadFrom) { _, _ in }
        } catch {
            throw ProjectorError(wrapping: error, doing: "rebuild \(projection.name): swapping in the rebuilt views")
        }
    }

    // MARK: Following the live views

    /// Reads up to the live checkpoints until they hold still, then applies the last messages and
    /// swaps under the write lock (or, without `swaps`, stops at the live checkpoints).
    mutating func followLive(signal: ShutdownSignal, swaps: Bool) throws(ProjectorError) -> Rebuild.Summary.Outcome {
        let name = projection.name
        let store = store
        let applier = applier
        var live = try liveCheckpoints()
        // No live checkpoints: a new pipeline or version; read to the ends seen at the start.
        var followsLive = !live.isEmpty
        target = followsLive ? targets(live) : high
        try restartIfAhead()
        var waitedForLive: ContinuousClock.Instant?
        while true {
            if partitions.indices.contains(where: { position[$0] > target[$0] }) {
                // A worker started on a new pipeline while the shadow read ahead: wait for it to pass the shadow.
                let since = waitedForLive ?? .now
                waitedForLive = since
                if ContinuousClock.now - since > .seconds(30) {
                    throw ProjectorError(
                        code: .fenced,
                        message: "rebuild \(name): a worker started on this pipeline during the rebuild and stays behind the "
                            + "rebuilt views; run the rebuild again")
                }
                if signal.isTriggered { return .stopped }
                Thread.sleep(forTimeInterval: 0.05)
            } else {
                waitedForLive = nil
                if try catchUp(signal: signal) == .stopped { return .stopped }
                guard swaps else { return .leftInShadow }
                let saved = (position, target, events, batches, counters)
                do {
                    try store.swap(pipeline: name, newVersion: projection.version, newHash: projection.definitionHash, time: nil,
                                   lettersReadFrom: lettersReadFrom) { transaction, current in
                        if current.isEmpty && !followsLive { return }
                        guard !current.isEmpty else { throw LiveMoved() }
                        target = targets(current)
                        if partitions.indices.contains(where: { position[$0] > target[$0] }) { throw LiveMoved() }
                        let deadline = ContinuousClock.now + options.finalCatchUpLimit
                        let result = try catchUp(signal: signal, deadline: deadline) { messages in
                            try applier.apply(messages, in: &transaction)
                        }
                        guard result == .reached else { throw LiveMoved() }
                        // The shadow now holds exactly what the live views hold; its checkpoints
                        // become the live ones (compacted gaps included).
                        let positions = Set(partitions.map { "\($0.topic)/\($0.partition)" })
                        try transaction.setCheckpoints(current.filter { positions.contains("\($0.topic)/\($0.partition)") })
                    }
                    return .swapped
                } catch is LiveMoved {
                    // Rolled back: forget what the transaction applied and read it again.
                    (position, target, events, batches, counters) = saved
                    isFetching = Array(repeating: false, count: partitions.count)
                } catch {
                    throw ProjectorError(wrapping: error, doing: "rebuild \(name): swapping in the rebuilt views")
                }
            }
            live = try liveCheckpoints()
            if !live.isEmpty { followsLive = true }
            target = followsLive ? targets(live) : high
        }
    }

    func liveCheckpoints() throws(ProjectorError) -> [Checkpoint] {
        do {
            return try store.checkpoints(pipeline: projection.name, target: .live)
        } catch {
            throw ProjectorError(wrapping: error, doing: "rebuild \(projection.name): reading the live checkpoints")
        }
    }

    /// Per slot, the live checkpoint; a partition the live views never read stays at its start.
    func targets(_ live: [Checkpoint]) -> [Int64] {
        var targets = low
        for checkpoint in live {
            if let slot = slot(topic: checkpoint.topic, partition: checkpoint.partition) { targets[slot] = checkpoint.nextOffset }
        }
        return targets
    }

    // MARK: Reading

    /// Polls batches and folds them into the window, writing it to the shadow whenever it fills
    /// (on the shadow writer's thread while the next window fills, where it can), until every
    /// partition reached its target (the window is then written too), or the signal stops it.
    mutating func catchUp(signal: ShutdownSignal) throws(ProjectorError) -> CatchUp {
        let applier = applier
        let window = window
        let shadowWrites = shadowWrites
        let result: CatchUp
        do {
            result = try catchUp(signal: signal, deadline: nil) { messages in
                let evaluation = try shadowWrites.read(
                    { transaction in try applier.evaluate(messages, rows: &transaction, into: &window.changes) },
                    overlaid: { rows in try applier.evaluate(messages, rows: &rows, into: &window.changes) })
                window.add(evaluation)
                // A failing event stops the rebuild: the shadow keeps everything before it.
                if evaluation.outcome.failure != nil {
                    try shadowWrites.write(window, later: false)
                } else if window.isFull {
                    try shadowWrites.write(window, later: true)
                }
                return evaluation.outcome
            }
        } catch {
            // The window in flight commits or not as a whole; the error is the one to report.
            try? shadowWrites.close()
            throw error
        }
        try writeWindow()
        do {
            try shadowWrites.close()
        } catch {
            throw ProjectorError(wrapping: error, doing: "rebuild \(projection.name): writing the shadow tables")
        }
        return result
    }

    /// Writes the window's rows, dead letters, counters and checkpoints to the shadow in one
    /// transaction, after the window being written, if any.
    func writeWindow() throws(ProjectorError) {
        do {
            if window.isEmpty {
                try shadowWrites.finishWriting()
            } else {
                try shadowWrites.write(window, later: false)
            }
        } catch {
            throw ProjectorError(wrapping: error, doing: "rebuild \(projection.name): writing the shadow tables")
        }
    }
}
