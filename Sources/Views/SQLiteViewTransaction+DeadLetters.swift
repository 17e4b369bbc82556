internal import GRDB
internal import ProjectorModel

extension SQLiteViewTransaction {
    /// The pipeline's dead letters in this transaction, ordered by id.
    mutating func deadLetters() throws -> [StoredDeadLetter] {
        try SQLiteViewStore.fetchDeadLetters(db, pipeline: storageKey, pendingAfter: nil, limit: nil).map {
            StoredDeadLetter(id: $0.id, pipeline: pipeline, letter: $0.letter)
        }
    }
}
