internal import ProjectorModel

extension Pipeline {
    /// The views whose one key column every operation writing them sets to the Kafka message key
    /// (`key: $key` in a pipeline without `source.key`), by name.
    ///
    /// A row of such a view is written only by events whose Kafka key is the row's key, so it
    /// depends only on the partition a producer's partitioner sends that key to: a read of one
    /// row needs to wait for that partition alone (the read API's `Projector-Min-Position`).
    public var messageKeyedViews: Set<String> {
        // With source.key, $key is an expression of the value, not the message key.
        guard key == nil else { return [] }
        var writers: [Int: Bool] = [:]
        for operation in handlers.flatMap(\.operations) where [.upsert, .update, .delete].contains(operation.kind) {
            let isMessageKey = operation.key.count == 1 && operation.key[0].kind == .meta(.key)
            writers[operation.view] = (writers[operation.view] ?? true) && isMessageKey
        }
        return Set(writers.filter { $0.value && views.indices.contains($0.key) }.map { views[$0.key].name })
    }
}
