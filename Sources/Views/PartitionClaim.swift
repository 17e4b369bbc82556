public import ProjectorModel

/// A partition a worker claimed in the store: the checkpoint it starts from and the epoch its
/// batches write under (epoch-fenced checkpoints, docs/ARCHITECTURE.md).
///
/// Claiming raises the partition's stored epoch by one and records the claimant as its owner, in
/// one transaction. A batch then moves the checkpoint only where the stored epoch is still the
/// claim's and the stored offset is the one the batch started from: a worker that lost the
/// partition (paused past its session timeout, then resumed) finds a higher epoch and writes nothing.
public struct PartitionClaim: Sendable, Hashable {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The stored next offset when claimed: where the claimant starts.
    public var nextOffset: Int64
    /// The epoch the claim raised the partition to.
    public var epoch: Int64

    /// Creates a claim.
    public init(topic: String, partition: Int32, nextOffset: Int64, epoch: Int64) {
        self.topic = topic
        self.partition = partition
        self.nextOffset = nextOffset
        self.epoch = epoch
    }
}
