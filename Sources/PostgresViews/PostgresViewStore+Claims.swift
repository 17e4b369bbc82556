internal import PostgresNIO
public import ProjectorModel
public import Views

extension PostgresViewStore {
    /// Claims the live checkpoints of `partitions` for `owner` (epoch + 1) in one statement and
    /// transaction, under the pipeline's lock (no batch of the previous owner is half done).
    public func claim(pipeline: String, owner: String, partitions: [Checkpoint]) throws -> [PartitionClaim] {
        guard !partitions.isEmpty else { return [] }
        return try transaction(locking: [pipeline], doing: "claiming partitions of pipeline \(pipeline)") {
            let rows = try session.query(
                """
                INSERT INTO "_projector_checkpoints" ("pipeline", "topic", "partition", "next_offset", "owner", "epoch")
                SELECT $1, "topic", "partition", "next_offset", $5, 1
                FROM unnest($2::text[], $3::integer[], $4::bigint[]) AS claimed("topic", "partition", "next_offset")
                ON CONFLICT ("pipeline", "topic", "partition")
                DO UPDATE SET "owner" = excluded."owner", "epoch" = "_projector_checkpoints"."epoch" + 1
                RETURNING "topic", "partition", "next_offset", "epoch"
                """,
                binds(pipeline, partitions.map(\.topic), partitions.map(\.partition), partitions.map(\.nextOffset), owner),
                doing: "claiming partitions of pipeline \(pipeline)")
            var stored: [String: PartitionClaim] = [:]
            for row in rows {
                let cells = Array(row)
                let claim = PartitionClaim(
                    topic: cells[0].text ?? "", partition: Int32(cells[1].integer ?? 0),
                    nextOffset: cells[2].integer ?? 0, epoch: cells[3].integer ?? 0)
                stored["\(claim.partition)/\(claim.topic)"] = claim
            }
            return partitions.map { partition in
                stored["\(partition.partition)/\(partition.topic)"]
                    ?? PartitionClaim(topic: partition.topic, partition: partition.partition, nextOffset: partition.nextOffset, epoch: 1)
            }
        }
    }

    /// The live checkpoints of the pipeline with their epochs, ordered by topic and partition.
    public func claims(pipeline: String) throws -> [PartitionClaim] {
        try read(doing: "reading the claims of pipeline \(pipeline)") {
            try session.query(
                """
                SELECT "topic", "partition", "next_offset", "epoch" FROM "_projector_checkpoints"
                WHERE "pipeline" = $1 ORDER BY "topic" COLLATE "C", "partition"
                """,
                binds(pipeline), doing: "reading the claims of pipeline \(pipeline)"
            ).map { row in
                let cells = Array(row)
                return PartitionClaim(
                    topic: cells[0].text ?? "", partition: Int32(cells[1].integer ?? 0),
                    nextOffset: cells[2].integer ?? 0, epoch: cells[3].integer ?? 0)
            }
        }
    }
}
