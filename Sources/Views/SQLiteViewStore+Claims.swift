internal import GRDB
public import ProjectorModel

extension SQLiteViewStore {
    /// Claims the live checkpoints of `partitions` for `owner` (epoch + 1) in one transaction.
    public func claim(pipeline: String, owner: String, partitions: [Checkpoint]) throws -> [PartitionClaim] {
        try access(doing: "claiming partitions of pipeline \(pipeline)") { db in
            var claims: [PartitionClaim] = []
            try db.inTransaction(.immediate) {
                let statement = try db.makeStatement(sql: """
                    INSERT INTO "_projector_checkpoints" ("pipeline", "topic", "partition", "next_offset", "owner", "epoch")
                    VALUES (?1, ?2, ?3, ?4, ?5, 1)
                    ON CONFLICT ("pipeline", "topic", "partition") DO UPDATE SET "owner" = excluded."owner", "epoch" = "epoch" + 1
                    RETURNING "next_offset", "epoch"
                    """)
                for partition in partitions {
                    let row = try Row.fetchOne(
                        statement,
                        arguments: [pipeline, partition.topic, Int64(partition.partition), partition.nextOffset, owner])
                    claims.append(PartitionClaim(
                        topic: partition.topic, partition: partition.partition,
                        nextOffset: row?["next_offset"] ?? partition.nextOffset, epoch: row?["epoch"] ?? 1))
                }
                return .commit
            }
            return claims
        }
    }

    /// The live checkpoints of the pipeline with their epochs, ordered by topic and partition.
    public func claims(pipeline: String) throws -> [PartitionClaim] {
        try read(doing: "reading the claims of pipeline \(pipeline)") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT "topic", "partition", "next_offset", "epoch" FROM "_projector_checkpoints"
                    WHERE "pipeline" = ? ORDER BY "topic", "partition"
                    """,
                arguments: [pipeline]
            ).map { PartitionClaim(topic: $0["topic"], partition: $0["partition"], nextOffset: $0["next_offset"], epoch: $0["epoch"]) }
        }
    }
}
