internal import Pipelines
internal import Views
internal import ProjectorModel

/// The rows a rebuild folded in memory since its last write: the batch-local change set kept
/// across batches up to a memory budget (``RebuildOptions/memoryBudget``).
///
/// The live loop writes every batch's changes with its checkpoints; a rebuild does not need those
/// small transactions (nobody reads the shadow yet), so it evaluates batch after batch into this
/// window's change set (each row hashed and read once per window) and writes each touched row
/// once per window (in key order where the store writes faster so), together with the window's
/// dead letters, counters and checkpoints in ONE transaction. A rebuild killed in the middle of a
/// window loses only that window: the shadow's checkpoints are those of the last written window,
/// and the next rebuild resumes from them.
///
/// - Important: Owned by the thread running the rebuild.
final class RebuildWindow {
    /// The budget the window's estimated size stays under before it is written.
    let budget: Int
    /// What the window holds before its next write: a sixteenth of ``budget`` at first, doubled
    /// after each write up to ``budget``. The first writes come early in the run, so the ETA
    /// knows what a write costs per byte before the long ones (RebuildProgress+Estimate.swift);
    /// a log that fits one window is written in a few transactions instead of one at the end.
    private(set) var limit: Int
    /// Each touched row as the shadow had it and as the window changed it.
    var changes = ChangeSet(measuresSize: true)
    private(set) var deadLetters: [DeadLetter] = []
    private(set) var counters = PlanResult.Counters()
    /// The window's ignored events by type name.
    private var ignoredTypes: [String: Int] = [:]
    /// The next offset per topic partition after the window's messages.
    private var next: [Checkpoint] = []
    /// The estimated bytes of the dead letters held.
    private var letterBytes = 0
    /// The estimated bytes of every window written so far (``bytes`` as each was written): what
    /// a write cost per byte is measured against (RebuildProgress+Estimate.swift). A batch that
    /// fills the window folds its own rows before the write, so the bytes held before the batch
    /// undercount a write by up to a batch's rows (10,000 events: ~2.7 MB of a 2 MiB first window).
    private(set) var bytesWritten = 0

    /// The budget of each window out of `windowBytes` (``RebuildOptions/windowBytes``): half of it,
    /// or a quarter when a full window is written on the shadow writer's thread while the next one
    /// fills (``ShadowWindowWrites``), so the two together hold half of it. The estimate undercounts
    /// the heap, and the process itself is not in the budget: one window of all of it peaked at
    /// 601–646 MiB under `--memory 512MiB` on 20,000,000 order_summary events, half of it at
    /// 428 MiB (100.2 s against 96.3 s), two windows of a quarter at 399–412 MiB (89.8 s). Smaller
    /// windows cost time once the tables outgrow the cache: rows touched again (an order's later
    /// events) are read and written again; windows of 24 MiB took 110 s with the writer's thread and
    /// 131.9 s without (benchmarks/README.md, "Rebuild on both cores").
    static func budget(_ windowBytes: Int, overlapped: Bool) -> Int { overlapped ? windowBytes / 4 : windowBytes / 2 }

    init(budget: Int) {
        self.budget = budget
        limit = max(budget / 16, min(budget, 1 << 20))
    }

    /// The estimated bytes the window holds.
    var bytes: Int { changes.estimatedBytes + letterBytes }
    var isEmpty: Bool { changes.isEmpty && deadLetters.isEmpty && next.isEmpty }
    var isFull: Bool { bytes >= limit }

    /// Folds in what one batch evaluated into ``changes`` did besides its rows.
    func add(_ evaluation: BatchApplier.Evaluation) {
        for letter in evaluation.deadLetters {
            letterBytes += 256 + (letter.key?.count ?? 0) + (letter.value?.count ?? 0) + letter.error.utf8.count
        }
        deadLetters += evaluation.deadLetters
        counters.add(evaluation.outcome.counters)
        ignoredTypes.merge(evaluation.ignoredTypes, uniquingKeysWith: +)
        for checkpoint in evaluation.outcome.checkpoints {
            if let index = next.firstIndex(where: { $0.topic == checkpoint.topic && $0.partition == checkpoint.partition }) {
                next[index].nextOffset = max(next[index].nextOffset, checkpoint.nextOffset)
            } else {
                next.append(checkpoint)
            }
        }
    }

    /// Takes the window's contents out to be written (``FrozenWindow``) and empties the window; the
    /// next one may hold twice as much, up to ``budget``. `spare` is an emptied change set of an
    /// earlier window, whose capacity the next window reuses.
    func freeze(reusing spare: ChangeSet? = nil) -> FrozenWindow {
        let frozen = FrozenWindow(changes: changes, deadLetters: deadLetters,
                                  counterDeltas: BatchApplier.counterDeltas(counters, ignoredTypes: ignoredTypes),
                                  checkpoints: next, bytes: bytes)
        bytesWritten += bytes
        limit = min(limit * 2, budget)
        changes = spare ?? ChangeSet(measuresSize: true)
        deadLetters.removeAll()
        counters = PlanResult.Counters()
        ignoredTypes = [:]
        next.removeAll()
        letterBytes = 0
        return frozen
    }
}
