internal import Pipelines
public import Views
public import ProjectorModel

/// What `projector verify` found: the digests of the live views and of a rebuild up to the same
/// checkpoints, and the first differing rows.
public struct VerificationReport: Sendable {
    /// One view's digests.
    public struct View: Sendable, Hashable {
        /// The view name.
        public var name: String
        /// The digest of the live view at ``VerificationReport/checkpoints``.
        public var live: ViewDigest
        /// The digest of the view rebuilt up to the same checkpoints.
        public var rebuilt: ViewDigest
        /// Whether they are equal.
        public var isEqual: Bool { live == rebuilt }
    }

    /// One row that differs.
    public struct Difference: Sendable, Hashable {
        /// The view.
        public var view: String
        /// The row's primary key, in key column order.
        public var key: [ViewValue]
        /// The live row, or nil when the live view lacks it.
        public var live: [ViewValue]?
        /// The rebuilt row, or nil when the rebuild lacks it.
        public var rebuilt: [ViewValue]?

        /// Creates a difference.
        public init(view: String, key: [ViewValue], live: [ViewValue]?, rebuilt: [ViewValue]?) {
            self.view = view
            self.key = key
            self.live = live
            self.rebuilt = rebuilt
        }
    }

    /// The pipeline.
    public var pipeline: String
    /// The live checkpoints both sides were compared at.
    public var checkpoints: [Checkpoint]
    /// Every table of the pipeline.
    public var views: [View]
    /// Up to ``Verification/differenceLimit`` differing rows over all views.
    public var differences: [Difference]

    /// Whether every view of the rebuild equals the live one.
    public var isEqual: Bool { views.allSatisfy(\.isEqual) }
}

/// `projector verify`: rebuilds a pipeline into a scratch store up to the live checkpoints and
/// compares it with the live views by their deterministic digests ("rebuild equals live").
public enum Verification {
    /// The most differing rows reported.
    public static let differenceLimit = 10

    /// Rebuilds into `scratch` and compares.
    ///
    /// The live digests and checkpoints are read in one snapshot; if a live worker moved on since
    /// the rebuild started, the scratch rebuild catches up to that snapshot before comparing.
    /// - Parameters:
    ///   - projection: the definition that built the live views.
    ///   - live: the live store (read only).
    ///   - scratch: an empty store for the rebuild (a scratch file the caller made and removes).
    ///   - options: brokers and batch settings (`until`, `swaps` and `restarts` are ignored).
    ///   - signal: stops the rebuild early; the report is then `nil`.
    ///   - onProgress: called on the rebuild's thread after every batch.
    /// - Returns: the report, or nil when `signal` stopped it.
    /// - Throws: ``ProjectorError`` `.usage` when the live views were built by another definition,
    ///   `.broker`, `.database` or `.eventFailed` as a rebuild does.
    public static func run(
        projection: any Projection, live: any ViewStoreReader, scratch: any ViewStore, options: RebuildOptions,
        signal: ShutdownSignal, onProgress: (@Sendable (RebuildProgress) -> Void)? = nil
    ) throws(ProjectorError) -> VerificationReport? {
        let name = projection.name
        // The outbox holds what is not produced yet, not a function of the events: never compared.
        let tables = projection.views.indices.filter { $0 != projection.outboxView }.map { projection.views[$0].name }
        do {
            guard let status = try live.pipelines().first(where: { $0.name == name }) else {
                throw ProjectorError(code: .usage, message: "verify: the store has no pipeline \(name); check --db")
            }
            guard status.hash == projection.definitionHash else {
                throw ProjectorError(
                    code: .usage,
                    message: "verify: the live views of \(name) were built by another definition (version \(status.version), "
                        + "hash \(status.hash.prefix(12))) than this file (version \(projection.version), hash "
                        + "\(projection.definitionHash.prefix(12))); verify with the definition that built them")
            }
        } catch {
            throw ProjectorError(wrapping: error, doing: "verify \(name)")
        }
        var checkpoints = try database(name) { try live.checkpoints(pipeline: name) }
        var liveDigests: [ViewDigest]
        while true {
            var scratchOptions = options
            scratchOptions.until = .offsets(checkpoints)
            scratchOptions.swaps = false
            scratchOptions.restarts = false
            let rebuild = Rebuild(projection: projection, store: scratch, options: scratchOptions, onProgress: onProgress)
            if try rebuild.run(until: signal, requiresEveryPartition: false).outcome == .stopped { return nil }
            let snapshot = try database(name) { try live.digests(ofViews: tables, pipeline: name) }
            liveDigests = snapshot.digests
            // Checkpoints only grow: equal ones mean no batch committed in between.
            if snapshot.checkpoints == checkpoints { break }
            checkpoints = snapshot.checkpoints
        }
        return try database(name) {
            try scratch.swap(pipeline: name, newVersion: projection.version, newHash: projection.definitionHash)
            let rebuilt = try scratch.digests(ofViews: tables, pipeline: name).digests
            let views = tables.indices.map { VerificationReport.View(name: tables[$0], live: liveDigests[$0], rebuilt: rebuilt[$0]) }
            var differences: [VerificationReport.Difference] = []
            for view in views where !view.isEqual && differences.count < differenceLimit {
                for key in try scratch.differingKeys(inView: view.name, comparedWith: live, limit: differenceLimit - differences.count) {
                    differences.append(VerificationReport.Difference(
                        view: view.name, key: key, live: try live.row(inView: view.name, key: key),
                        rebuilt: try scratch.row(inView: view.name, key: key)))
                }
            }
            return VerificationReport(pipeline: name, checkpoints: checkpoints, views: views, differences: differences)
        }
    }

    private static func database<T>(_ pipeline: String, _ body: () throws -> T) throws(ProjectorError) -> T {
        do {
            return try body()
        } catch {
            throw ProjectorError(wrapping: error, doing: "verify \(pipeline)")
        }
    }
}
