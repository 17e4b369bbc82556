internal import Foundation

/// Counts a batch's events of types without handler (`on_unknown_type: ignore`) by type name, so
/// that `projector status` can say which types a pipeline skips, not only how many events.
///
/// A batch meets few distinct names: they are compared in place with the event's bytes and
/// copied once per name and batch, never per event.
struct IgnoredTypeCounts {
    private var names: [[UInt8]] = []
    private var counts: [Int] = []

    /// Counts one event of type `name` (unescaped bytes).
    mutating func count(_ name: UnsafeBufferPointer<UInt8>) {
        for index in names.indices where names[index].count == name.count {
            let same = names[index].withUnsafeBufferPointer { known in
                name.count == 0 || memcmp(known.baseAddress!, name.baseAddress!, name.count) == 0
            }
            if same {
                counts[index] += 1
                return
            }
        }
        names.append(Array(name))
        counts.append(1)
    }

    /// The counts by type name.
    var byName: [String: Int] {
        var result: [String: Int] = [:]
        for (name, count) in zip(names, counts) { result[String(decoding: name, as: UTF8.self)] = count }
        return result
    }
}
