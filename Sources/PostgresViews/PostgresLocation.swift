public import Foundation

/// Where a PostgreSQL view store lives: a `postgres://user@host:port/db?sslmode=…` URL, the
/// password and the schema that holds the views and internal tables.
///
/// The password is never part of the URL a user types on a command line (it would show in `ps`):
/// it comes from `PGPASSWORD` or a password file, as libpq's own tools take it.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    /// How the connection uses TLS, as libpq's `sslmode` names it.
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without checking its certificate.
        case prefer
        /// TLS always, without checking the server's certificate.
        case require
        /// TLS always, the certificate checked against the system's trust roots and the host name.
        case verifyFull = "verify-full"
    }

    /// The server's host name or address.
    public var host: String
    /// The server's port. Default 5432.
    public var port: Int
    /// The user to log in as.
    public var user: String
    /// The password, or `nil` for trust/peer authentication.
    public var password: String?
    /// The database name.
    public var database: String
    /// The schema of the views and internal tables. Default `public`.
    public var schema: String
    /// TLS use. Default ``TLSMode/prefer``, as libpq.
    public var tlsMode: TLSMode
    /// Server settings for every session, as libpq's `options` parameter takes them
    /// (`-c statement_timeout=5s -c work_mem=64MB`): an operator bounds a worker's statements
    /// without changing the server. `nil` for none.
    public var options: String?

    /// Creates a location.
    public init(
        host: String, port: Int = 5432, user: String, password: String? = nil, database: String,
        schema: String = "public", tlsMode: TLSMode = .prefer, options: String? = nil
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.schema = schema
        self.tlsMode = tlsMode
        self.options = options
    }

    /// Whether a `--db` value names a PostgreSQL store rather than an SQLite file.
    public static func isPostgresURL(_ value: String) -> Bool {
        value.hasPrefix("postgres://") || value.hasPrefix("postgresql://")
    }

    /// Parses `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require|verify-full][&options=…]`,
    /// `options` percent-encoded as libpq takes it (`options=-c%20statement_timeout%3D5s`).
    ///
    /// - Parameter password: used when the URL has none (from `PGPASSWORD` or a password file).
    /// - Throws: ``PostgresLocationError`` naming what is wrong with the URL.
    public init(url text: String, password: String? = nil, schema: String = "public") throws {
        guard Self.isPostgresURL(text), let url = URLComponents(string: text) else {
            throw PostgresLocationError(message: "\(Self.redacted(text)) is not a PostgreSQL URL; write postgres://user@host:5432/database")
        }
        guard let host = url.host, !host.isEmpty else {
            throw PostgresLocationError(message: "\(Self.redacted(text)) names no host; write postgres://user@host:5432/database")
        }
        guard let user = url.user, !user.isEmpty else {
            throw PostgresLocationError(message: "\(Self.redacted(text)) names no user; write postgres://user@\(host):5432/database")
        }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresLocationError(message: "\(Self.redacted(text)) names no database; write postgres://\(user)@\(host):5432/database")
        }
        var mode = TLSMode.prefer
        var options: String?
        for item in url.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let parsed = TLSMode(rawValue: value) else {
                    throw PostgresLocationError(
                        message: "sslmode=\(item.value ?? "") in \(Self.redacted(text)) is not one of "
                            + TLSMode.allCases.map(\.rawValue).joined(separator: ", "))
                }
                mode = parsed
            case "options":
                guard let value = item.value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
                    throw PostgresLocationError(
                        message: "options in \(Self.redacted(text)) is empty; write options=-c%20statement_timeout%3D5s")
                }
                options = value
            default:
                throw PostgresLocationError(
                    message: "\(item.name) in \(Self.redacted(text)) is not a supported parameter; only sslmode and options are")
            }
        }
        self.init(
            host: host, port: url.port ?? 5432, user: user.removingPercentEncoding ?? user,
            password: url.password?.removingPercentEncoding ?? password, database: database.removingPercentEncoding ?? database,
            schema: schema, tlsMode: mode, options: options)
    }

    /// The URL without the password, for messages and logs.
    public var description: String {
        let settings = options.map { "&options=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? $0) } ?? ""
        return "postgres://\(user)@\(host):\(port)/\(database)?sslmode=\(tlsMode.rawValue)\(settings)"
            + (schema == "public" ? "" : " (schema \(schema))")
    }

    static func redacted(_ text: String) -> String {
        guard let url = URLComponents(string: text), url.password != nil else { return text }
        var copy = url
        copy.password = "***"
        return copy.string ?? text
    }
}

/// A `--db` PostgreSQL URL that cannot be used.
public struct PostgresLocationError: Error, CustomStringConvertible {
    /// What is wrong and how to write it.
    public var message: String
    /// The message.
    public var description: String { message }
}
