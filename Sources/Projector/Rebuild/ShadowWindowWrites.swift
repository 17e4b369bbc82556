internal import Pipelines
internal import Views
internal import ProjectorModel

/// How a rebuild reads rows and writes its full windows to the shadow: on its own thread, or,
/// where the store has a second connection to give and the pipeline reads no key ranges, on the
/// shadow writer's thread (``ShadowWindowWriter``) while the next window fills.
///
/// While a window is being written, the rebuild reads through it before the store
/// (``WindowOverlayRows``) in transactions that take no write lock
/// (``SharedShadowWrites/readShadow(pipeline:_:)``); once the write committed, the store adopts
/// its keys (``SharedShadowWrites/adoptShadowWrites(pipeline:_:)``). Each window is still one
/// transaction with its checkpoints, so a rebuild killed at any instant resumes from the last
/// window committed.
///
/// - Important: Owned by the thread running the rebuild.
final class ShadowWindowWrites {
    let store: any ViewStore
    let projection: any Projection
    /// The store's second connection, where the pipeline allows writing on it.
    private let shared: (any SharedShadowWrites)?
    private var writer: ShadowWindowWriter?
    /// The window the writer is writing.
    private var writing: FrozenWindow?
    /// An emptied change set of a written window, for the next window.
    private var spare: ChangeSet?
    /// The bytes of the window handed to the writer whose write time is not taken yet.
    private var timedBytes: Int?
    /// Writes done on the writer's thread and their seconds, not taken yet.
    private var finishedWrites: [(bytes: Int, seconds: Double)] = []
    /// Windows written, and of them those handed to the writer while the rebuild read on.
    private(set) var windowsWritten = 0
    private(set) var windowsWrittenWhileReading = 0

    init(store: any ViewStore, projection: any Projection) {
        self.store = store
        self.projection = projection
        // Timers read key ranges of the shadow (`TimerFiring`), which the window being written
        // cannot answer; a projection in Swift reads whatever it likes.
        let readsOnlyKeys = (projection as? Plan).map { $0.timersView == nil } ?? false
        shared = (store as? any SharedShadowWrites).flatMap { readsOnlyKeys && $0.canOpenShadowWriter ? $0 : nil }
    }

    /// Whether full windows may be written on the second connection while the next one fills.
    var overlaps: Bool { shared != nil }

    /// Runs `direct` in one transaction on the shadow, or, while a window is being written,
    /// `overlaid` in one that takes no write lock, reading through that window first. Two
    /// bodies, the same evaluation: reading through the window costs ~80 instructions a row read
    /// (an existential call more), which a rebuild without a window in flight does not pay.
    func read<Result>(
        _ direct: (inout any ViewTransaction) throws -> Result, overlaid: (inout WindowOverlayRows) throws -> Result
    ) throws -> Result {
        guard let writing, let shared else { return try store.write(pipeline: projection.name, target: .shadow, direct) }
        return try shared.readShadow(pipeline: projection.name) { transaction in
            var rows = WindowOverlayRows(writing: writing, base: transaction)
            defer { transaction = rows.base }
            return try overlaid(&rows)
        }
    }

    /// Writes what `window` holds and empties it: hands it to the writer (after the previous
    /// write is done) where the pipeline allows, and waits for it unless `later`; else writes it
    /// on the rebuild's connection. The first window handed over is one of at least a quarter of
    /// the window's budget: the small first windows (a sixteenth, an eighth) are written here, as a
    /// log of a few hundred thousand events gained nothing from a second connection (its opening,
    /// cold cache and handovers cost what the overlap saved). Once there is a writer, every write
    /// goes to it: its page cache holds the shadow's pages.
    func write(_ window: RebuildWindow, later: Bool) throws {
        try finishWriting()
        let frozen = window.freeze(reusing: spare.take())
        windowsWritten += 1
        let handsOver = later && (writer != nil || frozen.bytes >= window.budget / 4)
        if handsOver || writer != nil, let writer = try openWriter() {
            if handsOver { windowsWrittenWhileReading += 1 }
            noteFinishedWrite()
            timedBytes = handsOver ? frozen.bytes : nil
            writer.submit(frozen)
            writing = frozen
            if !handsOver { try finishWriting() }
            return
        }
        _ = try store.write(pipeline: projection.name, target: .shadow) { transaction in try frozen.write(in: &transaction) }
        spare = frozen.takeEmptiedChanges()
    }

    /// Waits for the window being written, if any (the writer recorded its keys as stored).
    func finishWriting() throws {
        guard let frozen = writing, let writer else { return }
        writing = nil
        try writer.wait()
        spare = frozen.takeEmptiedChanges()
    }

    /// The windows written on the writer's thread while the rebuild read on since the last call,
    /// with the seconds each write took: what the ETA counts the last window's write at.
    func takeFinishedWrites() -> [(bytes: Int, seconds: Double)] {
        noteFinishedWrite()
        defer { finishedWrites.removeAll() }
        return finishedWrites
    }

    /// The bytes of the window the writer is writing, as of the last ``takeFinishedWrites()``.
    var inFlightBytes: Int { timedBytes ?? 0 }

    private func noteFinishedWrite() {
        guard let bytes = timedBytes, let seconds = writer?.takeWriteSeconds() else { return }
        finishedWrites.append((bytes, seconds))
        timedBytes = nil
    }

    /// Waits for the write in flight and closes the second connection; the store's known keys go
    /// back to being dropped by other connections' commits.
    func close() throws {
        defer {
            if let writer, let shared {
                writer.stop()
                try? shared.closeShadowWriter(pipeline: projection.name)
            }
            writer = nil
        }
        try finishWriting()
    }

    private func openWriter() throws -> ShadowWindowWriter? {
        if let writer { return writer }
        guard let shared, let connection = try shared.openShadowWriter(
            pipeline: projection.name, version: projection.version, hash: projection.definitionHash, views: projection.views)
        else { return nil }
        let made = ShadowWindowWriter(store: connection, reader: shared, pipeline: projection.name)
        writer = made
        return made
    }
}
