package import Pipelines
internal import ProjectorModel

/// Answers every row as absent and every key range as empty, and keeps the keys asked: a dry run
/// of a batch over it lists the rows the real run will read (all but those whose key depends on
/// a row read).
private struct KeyRecorder: RowReader {
    var keys: [Int: [[ViewValue]]] = [:]

    mutating func row(in view: Int, key: [ViewValue]) throws -> [ViewValue]? {
        keys[view, default: []].append(key)
        return nil
    }

    func rows(in view: Int, keyPrefix: [ViewValue], upTo: ViewValue) throws -> [[ViewValue]] { [] }
}

/// A projection that runs a compiled pipeline — `Plan` itself, or a wrapper around one such as
/// the bench's — so a batch can be dry-run to list the rows it reads.
package protocol PlanBacked {
    /// The compiled pipeline the projection runs.
    var plan: Plan { get }
}

extension Plan: PlanBacked {
    package var plan: Plan { self }
}

extension BatchApplier {
    /// When `rows` prefers it (a store across a network), runs the plan once over `messages` into
    /// a throwaway change set to collect the keys the batch reads, and prefetches them: one
    /// request per table instead of one per key. Keys `held` by a change set kept across batches
    /// are not asked for. A key the dry run missed is read singly by the real run, so this only
    /// changes how many requests a batch costs, never what it does.
    /// - Throws: what `rows.prefetch` throws.
    func prefetch(
        _ messages: UnsafeBufferPointer<RawMessage>, rows: inout some RowReader, held: ChangeSet? = nil
    ) throws {
        guard rows.prefersPrefetch, let plan = (projection as? any PlanBacked)?.plan, !messages.isEmpty else { return }
        var recorder = KeyRecorder()
        // Deferring as the real run will: rows an upsert writes unread are not listed.
        var dryRun = ChangeSet(expectedRows: messages.count * 2, defersReads: held == nil && rows.writesAssignedColumns)
        _ = try plan.run(messages, rows: &recorder, into: &dryRun)
        var keys = recorder.keys
        if let held {
            for view in keys.keys { keys[view]!.removeAll { held.held(view: view, key: $0) != nil } }
        }
        try rows.prefetch(keys)
    }
}
