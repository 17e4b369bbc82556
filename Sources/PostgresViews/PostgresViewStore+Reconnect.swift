internal import Foundation
internal import Logging
internal import PostgresNIO
internal import Views

extension PostgresViewStore {
    /// Runs `body` in one transaction that commits when it returns and rolls back when it throws.
    /// `locking` are pipeline keys whose advisory locks the transaction takes first, in order.
    ///
    /// A transaction whose connection is lost (a server restart) kept nothing on the server and
    /// runs again on a new connection. When the connection is lost during COMMIT, the commit may
    /// or may not have happened: a new connection asks the server (`txid_status` of the
    /// transaction id read at BEGIN); committed, the result stands; aborted, the transaction runs
    /// again. All of it within ``Configuration/reconnectTimeout``, after which the error goes to
    /// the caller, which resumes from the store.
    func transaction<T>(locking keys: [String], doing action: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        let what = action()
        return try access {
            try retryingLostConnections(doing: what) { deadline in
                let locks = keys.map { "SELECT pg_advisory_xact_lock(\(Self.lockKey($0)))" }
                let xid = try session.begin(["BEGIN"] + locks + ["SELECT txid_current()"], doing: what) ?? 0
                let result: T
                do {
                    result = try body()
                } catch {
                    session.rollback()
                    throw error
                }
                do {
                    try session.commit(doing: what)
                } catch where session.lostConnection {
                    guard try committed(xid, deadline: deadline, doing: what) else {
                        session.noteLost()
                        throw error
                    }
                    logger.info("\(what): the commit's answer was lost with the connection; the server says it committed")
                }
                return result
            }
        }
    }

    /// Runs `body` in one read-only snapshot (`REPEATABLE READ`); again on a new connection when
    /// the connection is lost, within ``Configuration/reconnectTimeout``.
    func read<T>(doing action: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        let what = action()
        return try access {
            try retryingLostConnections(doing: what) { _ in
                _ = try session.begin(["BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"], doing: what)
                let result: T
                do {
                    result = try body()
                } catch {
                    session.rollback()
                    throw error
                }
                try session.commit(doing: what)
                return result
            }
        }
    }

    /// Runs `attempt` until it succeeds, fails other than by a lost connection, or the
    /// reconnect timeout passes, with growing pauses; says in the log when the connection was
    /// lost and when it is back.
    private func retryingLostConnections<T>(doing what: String, _ attempt: (ContinuousClock.Instant) throws -> T) throws -> T {
        let deadline = ContinuousClock.now + configuration.reconnectTimeout
        var pause = Duration.milliseconds(50)
        var lost = false
        while true {
            do {
                let result = try attempt(deadline)
                if lost { logger.info("\(what): connected to \(location) again") }
                return result
            } catch where session.lostConnection && ContinuousClock.now + pause < deadline {
                if !lost {
                    logger.warning("""
                        \(what): the view store lost its connection to \(location) (\(error)); nothing of the transaction was \
                        kept, running it again on a new connection for up to \(configuration.reconnectTimeout)
                        """)
                    lost = true
                }
                Thread.sleep(forTimeInterval: Self.seconds(pause))
                pause = min(pause * 2, .seconds(2))
            }
        }
    }

    /// Whether transaction `xid`, whose COMMIT lost its connection, committed; asked on new
    /// connections until `deadline` (a transaction still in progress, its old session not yet
    /// gone, is asked about again).
    private func committed(_ xid: Int64, deadline: ContinuousClock.Instant, doing what: String) throws -> Bool {
        var pause = Duration.milliseconds(50)
        while true {
            do {
                let status = try session.query("SELECT txid_status($1)", binds(xid), doing: "\(what): asking whether the commit happened")
                    .first.flatMap { $0.first?.text }
                switch status {
                case "committed": return true
                case "aborted": return false
                case "in progress": break
                default:
                    throw ViewStoreError(
                        code: .postgres,
                        message: "\(what): the connection was lost during COMMIT and the server no longer knows transaction \(xid); "
                            + "run again: the worker resumes from the stored checkpoints")
                }
            } catch where session.lostConnection && ContinuousClock.now + pause < deadline {}
            guard ContinuousClock.now + pause < deadline else {
                throw ViewStoreError(
                    code: .postgres,
                    message: "\(what): the connection was lost during COMMIT and whether it committed was not known within "
                        + "\(configuration.reconnectTimeout); run again: the worker resumes from the stored checkpoints")
            }
            Thread.sleep(forTimeInterval: Self.seconds(pause))
            pause = min(pause * 2, .seconds(2))
        }
    }

    /// Connects, waiting up to the reconnect timeout while the server has no free connection slot
    /// (`too many clients`) or is starting up, and saying so once in the log; any other failure
    /// (no server there, a refused login) is thrown at once.
    func waitForConnectionSlot() throws {
        let deadline = ContinuousClock.now + configuration.reconnectTimeout
        var pause = Duration.milliseconds(100)
        var waiting = false
        while true {
            do {
                _ = try access { try session.connected() }
                if waiting { logger.info("connected to \(location)") }
                return
            } catch where Self.isServerBusy(session.lastSQLState) && ContinuousClock.now + pause < deadline {
                if !waiting {
                    logger.warning("\(error); waiting up to \(configuration.reconnectTimeout) for the server to take the connection")
                    waiting = true
                }
                Thread.sleep(forTimeInterval: Self.seconds(pause))
                pause = min(pause * 2, .seconds(1))
            }
        }
    }

    /// Whether a failure to connect is the server's passing state: no free connection slot
    /// (53300) or starting up (57P03).
    static func isServerBusy(_ sqlState: String?) -> Bool {
        sqlState == "53300" || sqlState == "57P03"
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
