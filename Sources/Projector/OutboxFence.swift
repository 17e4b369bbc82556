internal import KafkaClient
internal import Views

/// Lets only the owner of a source partition produce its records: before each relay round sends
/// anything, one read of the stored epochs (``ViewStore/claims(pipeline:)``) is compared with the
/// epochs of this worker's claims (``PartitionTracker/epochs``). Records of a partition another
/// worker claimed since — this one stalled past its session timeout and has not noticed yet — are
/// neither produced nor deleted: they stay in the outbox for the new owner's relay.
///
/// The check and the send are not one transaction: a claim taken in between can still let one
/// round's records out twice, and their `projector.id` makes those duplicates removable downstream.
struct OutboxFence {
    let pipeline: String
    let store: any ViewStore
    /// The epoch of each partition this worker holds, read when needed (the worker's tracker).
    private var held: () -> [KafkaTopicPartition: Int64]
    /// The claims seen by the last ``claimsChanged()``.
    private var lastHeld: [KafkaTopicPartition: Int64] = [:]

    init(pipeline: String, store: any ViewStore, held: @escaping () -> [KafkaTopicPartition: Int64]) {
        self.pipeline = pipeline
        self.store = store
        self.held = held
    }

    /// From now on, uses the claims held now rather than the tracker's.
    mutating func keepClaims() {
        let now = held()
        held = { now }
    }

    /// Whether this worker's claims changed since the last call (an assignment, a revocation, a
    /// partition dropped after a lost claim).
    mutating func claimsChanged() -> Bool {
        let now = held()
        guard now != lastHeld else { return false }
        lastHeld = now
        return true
    }

    /// The items this worker may produce: those of no partition, and those of partitions whose
    /// stored epoch is still the one this worker claimed them at.
    /// - Throws: the store's error when reading the epochs fails.
    func owned(_ items: [OutboxItem]) throws -> [OutboxItem] {
        guard items.contains(where: { $0.partition != nil }) else { return items }
        let held = held()
        var current: Set<KafkaTopicPartition> = []
        if !held.isEmpty {
            for stored in try store.claims(pipeline: pipeline) {
                let partition = KafkaTopicPartition(topic: stored.topic, partition: stored.partition)
                if held[partition] == stored.epoch { current.insert(partition) }
            }
        }
        return items.filter { item in item.partition.map(current.contains) ?? true }
    }
}
