import Projector
import ProjectorModel
import Testing

/// Messages built from JSON values, applied as one batch.
enum BatchMessages {
    /// Applies `values` as one batch of partition 0 from offset `first` on, and expects every
    /// message consumed without a batch failure (failed events are dead letters, not failures).
    static func apply(_ values: [[UInt8]], first: Int64, _ applier: BatchApplier) throws {
        let buffers = values.map { bytes in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
            buffer.copyBytes(from: bytes)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        let messages = buffers.enumerated().map { index, buffer in
            RawMessage(key: nil, value: UnsafeRawBufferPointer(buffer), topic: 0, partition: 0,
                       offset: first + Int64(index), timestamp: nil)
        }
        let outcome = try messages.withUnsafeBufferPointer { try applier.apply($0) }
        #expect(outcome.consumed == values.count && outcome.failure == nil)
    }
}
