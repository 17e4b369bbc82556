internal import KafkaClient
internal import ProjectorModel
internal import Views

extension ReadAPI {
    /// The part of `minimum` a read waits for. A read of one row of a view keyed by the message
    /// key (``messageKeyedViews``) needs only the partition the producers' partitioner sends that
    /// key to, in each topic of `topics` the token names: the other partitions cannot hold an
    /// event that wrote the row. Any other read needs all of `minimum`.
    ///
    /// A topic's partition count is the number of its checkpoints when they are exactly
    /// partitions 0 to n−1 (a worker claims every partition it is assigned, with a checkpoint
    /// row, before its first batch) and the token names none past them; otherwise the read
    /// waits for the whole token, as if the view were not message-keyed.
    func awaitedPosition(_ minimum: KafkaPosition, query: ViewQuery, view: ViewDescription, topics: Set<String>?) -> KafkaPosition {
        guard messageKeyedViews.contains(view.name), view.keyColumns.count == 1, let key = query.key,
              view.columns[view.keyColumns[0]].type == .text else { return minimum }
        let text: String
        switch key {
        case .positional(let values):
            guard values.count == 1 else { return minimum }
            text = values[0]
        case .named(let values):
            guard values.count == 1, let value = values[view.columns[view.keyColumns[0]].name] else { return minimum }
            text = value
        }
        let bytes = Array(text.utf8)
        var partitions: [String: Set<Int32>] = [:]
        for checkpoint in view.checkpoints { partitions[checkpoint.topic, default: []].insert(checkpoint.partition) }
        var narrowed: [String: [Int32: Int64]] = [:]
        for (topic, offsets) in minimum.offsets where topics?.contains(topic) ?? true {
            guard let known = partitions[topic], known == Set(0 ..< Int32(known.count)),
                  offsets.keys.allSatisfy({ $0 < Int32(known.count) }) else { return minimum }
            guard let partition = partitioner.partition(of: bytes, count: Int32(known.count)) else { return minimum }
            if let offset = offsets[partition] { narrowed[topic] = [partition: offset] }
        }
        return KafkaPosition(offsets: narrowed, generation: minimum.generation)
    }
}
