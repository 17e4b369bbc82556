internal import Pipelines
internal import ProjectorModel
internal import Views

/// Reads rows through the window the shadow writer is writing, then the store: the shadow as it
/// is once that write commits, whether or not it has yet.
///
/// A window's change set reads every row it touches (it does not leave rows unread), so it
/// knows the whole final state of each key it holds.
struct WindowOverlayRows: RowReader {
    /// The window being written.
    let writing: FrozenWindow
    /// The batch's transaction on the shadow.
    var base: any ViewTransaction

    mutating func row(in view: Int, key: [ViewValue]) throws -> [ViewValue]? {
        if let held = writing.changes.held(view: view, key: key) { return held }
        return try base.row(in: view, key: key)
    }

    mutating func knownRow(in view: Int, key: [ViewValue]) -> [ViewValue]?? {
        if let held = writing.changes.held(view: view, key: key) { return .some(held) }
        return base.knownRow(in: view, key: key)
    }

    /// The store's range: only timers read key ranges, and a rebuild of a pipeline with timers
    /// writes each window before it reads on (``ShadowWindowWrites/overlaps``), so none is being
    /// written.
    mutating func rows(in view: Int, keyPrefix: [ViewValue], upTo: ViewValue) throws -> [[ViewValue]] {
        try base.rows(in: view, keyPrefix: keyPrefix, upTo: upTo)
    }

    var prefersPrefetch: Bool { base.prefersPrefetch }

    mutating func prefetch(_ keys: [Int: [[ViewValue]]]) throws { try base.prefetch(keys) }

    var writesAssignedColumns: Bool { base.writesAssignedColumns }
}
