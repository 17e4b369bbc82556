import Pipelines
@testable import Projector
import ProjectorModel
import Testing

/// The rebuild's window (``RebuildWindow``) without a store: what it counts as written, which the
/// ETA measures a write's cost per byte against.
@Suite("rebuild window")
struct RebuildWindowTests {
    /// No rows stored: every key the window touches is new.
    struct NoRows: RowReader {
        func row(in view: Int, key: [ViewValue]) throws -> [ViewValue]? { nil }
        func rows(in view: Int, keyPrefix: [ViewValue], upTo: ViewValue) throws -> [[ViewValue]] { [] }
    }

    /// Folds `count` new rows of ~100 bytes into the window, as one batch does.
    static func fold(_ count: Int, from first: Int, into window: RebuildWindow) throws {
        var rows = NoRows()
        for number in first ..< first + count {
            window.changes.beginEvent()
            let entry = try window.changes.entry(view: 0, key: [.text("order-\(number)")], rows: &rows)
            window.changes.set(entry, [.text("order-\(number)"), .text("a customer id of some length"), .integer(Int64(number))])
        }
    }

    @Test("a frozen window counts all it held, the rows of the batch that filled it included")
    func bytesWritten() throws {
        let window = RebuildWindow(budget: 1 << 20)
        #expect(window.bytesWritten == 0)
        // Batches of 500 rows until one fills the first window (a sixteenth of the budget).
        var folded = 0
        var before = 0
        while !window.isFull {
            before = window.bytes
            try Self.fold(500, from: folded, into: window)
            folded += 500
        }
        let held = window.bytes
        #expect(held > before)
        let frozen = window.freeze()
        #expect(frozen.bytes == held)
        // What the batch folded before the write counts as written, not only what the window held before it.
        #expect(window.bytesWritten == held)
        #expect(window.bytes == 0)
        try Self.fold(500, from: folded, into: window)
        let second = window.bytes
        _ = window.freeze(reusing: frozen.takeEmptiedChanges())
        #expect(window.bytesWritten == held + second)
    }
}
