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
/// rolls back, and the worker resumes from the stored checkpoints.
final class PostgresSession: @unchecked Sendable {
    let location: PostgresLocation
    /// Statements run on every new connection (`SET search_path`, timeouts).
    let setup: [String]
    let connectTimeout: Duration
    private var connection: PostgresConnection?
    /// Whether the last failed call lost the connection (a server restart, the network) rather
    /// than having a statement refused: the server then kept nothing of an open transaction.
    private(set) var lostConnection = false
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
        if let connection { try? connection.close().wait() }
    }

    /// The open connection, connecting first when there is none or it was closed.
    func connected() throws -> PostgresConnection {
        lostConnection = false
        if let connection, !connection.isClosed { return connection }
        connection = nil
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
        let made: PostgresConnection
        do {
            made = try PostgresConnection.connect(
                on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration,
                id: Self.ids.next(), logger: logger
            ).wait()
        } catch {
            lostConnection = true
            throw ViewStoreError(
                code: .cannotOpen,
                message: "cannot connect to the view store \(location): \(Self.describe(error)); check that PostgreSQL "
                    + "runs there and the user, password (PGPASSWORD or --db-password-file) and database are right")
        }
        connection = made
        do {
            for statement in setup { _ = try made.query(PostgresQuery(unsafeSQL: statement), logger: logger).wait() }
        } catch {
            connection = nil
            try? made.close().wait()
            throw Self.storeError(error, doing: "setting up the connection to \(location)")
        }
        return made
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
        let answers = statements.map { connection.query(PostgresQuery(unsafeSQL: $0), logger: logger) }
        var failure: (any Error)?
        for answer in answers {
            do { _ = try answer.wait() } catch { failure = failure ?? error }
        }
        if let failure {
            noteFailure(failure)
            throw Self.storeError(failure, doing: action())
        }
    }

    private func run(_ sql: String, _ bindings: PostgresBindings, doing action: @autoclosure () -> String) throws -> PostgresQueryResult {
        let connection = try connected()
        do {
            return try connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).wait()
        } catch {
            noteFailure(error)
            throw Self.storeError(error, doing: action())
        }
    }

    /// Records whether `error` lost the connection, and forgets a lost connection.
    private func noteFailure(_ error: any Error) {
        guard let error = error as? PSQLError else { return }
        let state = error.serverInfo?[.sqlState] ?? ""
        // Class 08 is connection exceptions; 57P01-57P03 the server shutting down or starting.
        lostConnection = [.serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown].contains(error.code)
            || state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
        if lostConnection {
            try? connection?.close().wait()
            connection = nil
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
        if let info = error.serverInfo, let message = info[.message] {
            var text = message + " (SQLSTATE \(info[.sqlState] ?? "?"))"
            if let detail = info[.detail] { text += "; " + detail }
            return text
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
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
