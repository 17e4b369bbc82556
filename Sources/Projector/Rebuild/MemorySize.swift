internal import Foundation

/// A number of bytes written with a binary unit, as `projector rebuild --memory` takes it.
///
/// ```swift
/// try MemorySize.bytes(parsing: "512MiB")   // 536_870_912
/// try MemorySize.bytes(parsing: "1GiB")     // 1_073_741_824
/// ```
public enum MemorySize {
    /// The smallest budget accepted: 1 MiB.
    public static let minimum = 1 << 20

    private static let units: [(suffix: String, shift: Int)] = [("kib", 10), ("mib", 20), ("gib", 30), ("tib", 40), ("b", 0)]

    /// Parses a whole number followed by `B`, `KiB`, `MiB`, `GiB` or `TiB` (case-insensitive,
    /// spaces allowed before the unit), at least ``minimum``.
    /// - Throws: ``ProjectorError`` `.usage` saying what was expected.
    public static func bytes(parsing text: String) throws(ProjectorError) -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let lowered = trimmed.lowercased()
        let expected = "expected a size like 512MiB or 1GiB (a whole number and one of B, KiB, MiB, GiB, TiB)"
        let decimal = ["kb", "mb", "gb", "tb", "k", "m", "g", "t"].contains { lowered.hasSuffix($0) }
            && !lowered.hasSuffix("ib")
        guard !decimal, let unit = units.first(where: { lowered.hasSuffix($0.suffix) }) else {
            let hint = decimal ? "; write the binary unit (MiB, not MB)" : ""
            throw ProjectorError(code: .usage, message: "--memory \(text): \(expected)\(hint)")
        }
        let number = lowered.dropLast(unit.suffix.count).trimmingCharacters(in: .whitespaces)
        guard let value = Int(number), value >= 0 else {
            throw ProjectorError(code: .usage, message: "--memory \(text): \(expected)")
        }
        guard value <= Int.max >> unit.shift else {
            throw ProjectorError(code: .usage, message: "--memory \(text): too large")
        }
        let bytes = value << unit.shift
        guard bytes >= minimum else {
            throw ProjectorError(code: .usage, message: "--memory \(text): at least 1MiB")
        }
        return bytes
    }
}
