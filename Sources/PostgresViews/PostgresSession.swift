internal import Foundation
internal import Logging
internal import PostgresNIO
internal import Views

/// One PostgreSQL connection driven synchronously: every call sends its statement and blocks the
/// calling thread until the server answered.
///
/// The view store protocols are synchronous because the worker applies a batch on its own thread
/// (never an event loop or the cooperative pool), so blocking that thread on an `EventLoopFuture`
/// costs nothing: the thread has nothing else to do until the batch is stored. NIO's event loop
/// threads do the I/O; `wait()` refuses to run on one of them.
///
/// A connection that the server or network closed is opened again by the next call (with the
/// session settings), so a worker survives a PostgreSQL restart: the batch in flight fails and
/// rolls back, and the store runs it again (``PostgresViewStore/transaction(locking:doing:_:)``).
/// Inside a transaction it is not: statements on a new connection would run outside the
/// transaction, each committing on its own.
///
/// Every wait is bounded. postgres-nio drops a statement written to a channel that closed
/// meanwhile (a server restart) without failing its future, because the channel handler that
/// would fail it has left the pipeline; a plain `wait()` then blocks forever.
final class PostgresSession: @unchecked Sendable {
    let location: PostgresLocation
    /// Statements run on every new connection (`SET search_path`, timeouts).
    let setup: [String]
    let connectTimeout: Duration
    private var connection: PostgresConnection?
    /// Whether the last failed call lost the connection (a server restart, the network) rather
    /// than having a statement refused: the server then kept nothing of an open transaction.
    private(set) var lostConnection = false
    /// The SQLSTATE of the last failure the server reported, if any (`53300`: no free connection slot).
    private(set) var lastSQLState: String?
    /// Statements that read view rows for a batch (one per single key, one per prefetched
    /// table), counted for ``PostgresViewStore/rowReads``.
    var rowReads = 0
    /// Whether BEGIN was sent and neither COMMIT nor ROLLBACK since.
    private var isInTransaction = false
    private let logger: Logger
    private static let ids = AtomicCounter()

    init(location: PostgresLocation, setup: [String], connectTimeout: Duration) {
        self.location = location
        self.setup = setup
        self.connectTimeout = connectTimeout
        var logger = Logger(label: "projector.postgres")
        logger.logLevel = .critical
        self.logger = logger
    }

    deinit {
        if let connection { try? Self.answer(connection.close(), on: connection) }
    }

    /// The open connection, connecting first when there is none or it was closed (outside a transaction).
    func connected() throws -> PostgresConnection {
        lostConnection = false
        lastSQLState = nil
        if let connection, !connection.isClosed { return connection }
        connection = nil
        if isInTransaction {
            lostConnection = true
            throw ViewStoreError(
                code: .postgres, message: "the connection to \(location) was lost inside a transaction; the server rolled it back")
        }
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch location.tlsMode {
            case .disable:
                tls = .disable
            case .prefer, .require:
                var configuration = TLSConfiguration.makeClientConfiguration()
                configuration.certificateVerification = .none
                let context = try NIOSSLContext(configuration: configuration)
                tls = location.tlsMode == .prefer ? .prefer(context) : .require(context)
            case .verifyFull:
                tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        } catch {
            throw ViewStoreError(code: .cannotOpen, message: "cannot set up TLS for \(location): \(error)")
        }
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: tls)
        let timeout = connectTimeout.components
        configuration.options.connectTimeout = .nanoseconds(timeout.seconds * 1_000_000_000 + timeout.attoseconds / 1_000_000_000)
        if let options = location.options { configuration.options.additionalStartupParameters = [("options", options)] }
        let made: PostgresConnection
        do {
            let connecting = PostgresConnection.connect(
                on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration, id: Self.ids.next(), logger: logger)
            // connectTimeout bounds the TCP connect; the startup and login get as long again.
            made = try Self.answer(connecting, within: connectTimeout * 2, doing: "connecting")
        } catch {
            lostConnection = true
            lastSQLState = (error as? PSQLError)?.serverInfo?[.sqlState]
            throw ViewStoreError(code: .cannotOpen, message: "cannot connect to the view store \(location): \(Self.describe(error)); "
                + Self.connectHint(sqlState: lastSQLState))
        }
        connection = made
        do {
            for statement in setup { _ = try Self.answer(made.query(PostgresQuery(unsafeSQL: statement), logger: logger), on: made) }
        } catch {
            connection = nil
            try? Self.answer(made.close(), on: made)
            noteFailure(error)
            throw Self.storeError(error, doing: "setting up the connection to \(location)")
        }
        return made
    }

    /// What to check when connecting failed, by the server's SQLSTATE.
    static func connectHint(sqlState: String?) -> String {
        switch sqlState {
        case "53300":
            "no connection slot is free (the server's max_connections, or the CONNECTION LIMIT of the role or database); "
                + "close idle sessions or raise the limit"
        case "57P03":
            "the server is starting up or shutting down; try again when it accepts connections"
        default:
            "check that PostgreSQL runs there and the user, password (PGPASSWORD or --db-password-file) and database are right"
        }
    }

    /// Sends `statements` (BEGIN, then lock statements, `SELECT txid_current()`…) back to back
    /// and returns the `bigint` the last one reads, if any. From here until ``commit(doing:)`` or
    /// ``rollback()`` a lost connection fails every call instead of opening a new one. A refused
    /// statement (a lock timeout) rolls the transaction back before its error is thrown.
    func begin(_ statements: [String], doing action: @autoclosure () -> String) throws -> Int64? {
        let connection = try connected()
        isInTransaction = true
        do {
            return try pipelined(statements, on: connection).first?.first?.bytes?.getInteger(at: 0, as: Int64.self)
        } catch {
            rollback()
            throw Self.storeError(error, doing: action())
        }
    }

    /// Sends COMMIT and ends the transaction, committed or not.
    func commit(doing action: @autoclosure () -> String) throws {
        defer { isInTransaction = false }
        try script("COMMIT", doing: action())
    }

    /// Rolls the open transaction back (nothing to do when its connection is gone: the server
    /// rolled it back) and ends it. Keeps ``lostConnection`` as the failure that led here left it.
    func rollback() {
        let lost = lostConnection
        defer {
            isInTransaction = false
            lostConnection = lost
        }
        guard !lost, let connection, !connection.isClosed else { return }
        do {
            _ = try pipelined(["ROLLBACK"], on: connection)
        } catch {
            // The connection broke under the ROLLBACK: the server rolls back anyway.
        }
    }

    /// Marks the last failure as a lost connection, so the store runs the transaction again.
    func noteLost() {
        lostConnection = true
    }

    /// Runs one statement with its bindings and returns its rows.
    @discardableResult
    func query(_ sql: String, _ bindings: PostgresBindings = PostgresBindings(), doing action: @autoclosure () -> String) throws -> [PostgresRow] {
        try run(sql, bindings, doing: action()).rows
    }

    /// Runs one statement and returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ bindings: PostgresBindings = PostgresBindings(), doing action: @autoclosure () -> String) throws -> Int {
        try run(sql, bindings, doing: action()).metadata.rows ?? 0
    }

    /// Runs statements separated by `;` (none inside one), without bindings: all are sent before
    /// the first answer is awaited, so the connection queues them back to back.
    func script(_ sql: String, doing action: @autoclosure () -> String) throws {
        let connection = try connected()
        let statements = sql.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        do {
            _ = try pipelined(statements, on: connection)
        } catch {
            throw Self.storeError(error, doing: action())
        }
    }

    /// Sends `statements` back to back, waits for every answer and returns the last one's rows;
    /// throws the first failure (after noting it).
    private func pipelined(_ statements: [String], on connection: PostgresConnection) throws -> [PostgresRow] {
        let answers = statements.map { connection.query(PostgresQuery(unsafeSQL: $0), logger: logger) }
        var failure: (any Error)?
        var rows: [PostgresRow] = []
        for answer in answers {
            do { rows = try Self.answer(answer, on: connection).rows } catch { failure = failure ?? error }
        }
        if let failure {
            noteFailure(failure)
            throw failure
        }
        return rows
    }

    private func run(_ sql: String, _ bindings: PostgresBindings, doing action: @autoclosure () -> String) throws -> PostgresQueryResult {
        let connection = try connected()
        do {
            return try Self.answer(connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger), on: connection)
        } catch {
            noteFailure(error)
            throw Self.storeError(error, doing: action())
        }
    }

    /// The connection closed with a statement unanswered (see the type's note).
    struct ConnectionVanished: Error, CustomStringConvertible {
        var description: String { "the connection closed before the server answered" }
    }

    /// The answer to a statement on `connection`: waits while the connection is open, and at
    /// most a second more once it has closed (an answer then would have come at once).
    static func answer<T: Sendable>(_ future: EventLoopFuture<T>, on connection: PostgresConnection) throws -> T {
        let answer = Answer(future)
        var closedAt: ContinuousClock.Instant?
        while true {
            if let result = answer.wait(upTo: .milliseconds(100)) { return try result.get() }
            guard connection.isClosed else { continue }
            let now = ContinuousClock.now
            if let closedAt, now - closedAt > .seconds(1) { throw ConnectionVanished() }
            closedAt = closedAt ?? now
        }
    }

    /// The value of `future` within `limit`; a value that comes later is closed if it is a connection.
    static func answer<T: Sendable>(_ future: EventLoopFuture<T>, within limit: Duration, doing action: String) throws -> T {
        if let result = Answer(future).wait(upTo: limit) { return try result.get() }
        future.whenSuccess { late in
            if let connection = late as? PostgresConnection { _ = connection.close() as EventLoopFuture<Void> }
        }
        throw ViewStoreError(code: .cannotOpen, message: "\(action) took longer than \(limit)")
    }

    /// Records whether `error` lost the connection, and forgets a lost connection.
    private func noteFailure(_ error: any Error) {
        if error is ConnectionVanished {
            lostConnection = true
        } else {
            guard let error = error as? PSQLError else { return }
            let state = error.serverInfo?[.sqlState] ?? ""
            lastSQLState = state.isEmpty ? nil : state
            // Class 08 is connection exceptions; 57P01-57P03 the server shutting down or starting.
            lostConnection = [.serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown].contains(error.code)
                || state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
        }
        if lostConnection, let connection {
            try? Self.answer(connection.close(), on: connection)
            self.connection = nil
        }
    }

    /// Maps a PostgreSQL failure to a ``ViewStoreError`` naming what failed, the server's message and SQLSTATE.
    static func storeError(_ error: any Error, doing action: String) -> any Error {
        if error is ViewStoreError { return error }
        let state = (error as? PSQLError)?.serverInfo?[.sqlState]
        let code: ViewStoreError.Code = switch state {
        // lock_not_available (lock_timeout), deadlock_detected, serialization_failure
        case "55P03", "40P01", "40001": .busy
        case "42P01": .noSuchView
        default: .postgres
        }
        return ViewStoreError(code: code, message: "\(action): \(describe(error))")
    }

    /// The server's message and SQLSTATE, or the connection failure: `PSQLError`'s own description
    /// hides both to keep data out of logs, but these name no row values.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if error.serverInfo?[.sqlState] == "57014", let message = error.serverInfo?[.message] {
            // query_canceled: by statement_timeout (its message says so) or by an operator.
            return message + " (SQLSTATE 57014); the transaction rolled back and nothing of it was stored; "
                + "a statement_timeout comes from the server's settings or options=-c%20statement_timeout%3D… in the --db URL"
        }
        if let info = error.serverInfo, let message = info[.message] {
            var text = message + " (SQLSTATE \(info[.sqlState] ?? "?"))"
            if let detail = info[.detail] { text += "; " + detail }
            return text
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }
}

/// The result of a future, awaited from a thread that is not an event loop's, with a bound.
final class Answer<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `result` is written once, before `done` is signalled, and read after;
    // `received` belongs to the waiting thread.
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<T, any Error>?
    private var received = false

    init(_ future: EventLoopFuture<T>) {
        future.whenComplete { [self] in
            result = $0
            done.signal()
        }
    }

    /// The result, or `nil` when it has not come within `limit` (then ask again).
    func wait(upTo limit: Duration) -> Result<T, any Error>? {
        if !received {
            let parts = limit.components
            let nanoseconds = Int(parts.seconds) * 1_000_000_000 + Int(parts.attoseconds / 1_000_000_000)
            guard done.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success else { return nil }
            received = true
        }
        return result
    }
}

/// Connection ids for postgres-nio's log metadata.
final class AtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.withLock {
            value += 1
            return value
        }
    }
}
