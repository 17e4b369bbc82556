import ArgumentParser
import Foundation
import PostgresViews
import Projector
import Views

/// How to reach a PostgreSQL store named by `--db postgres://…`: its schema and password.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("db-schema"), help: ArgumentHelp(
        "With --db postgres://…: the schema of the views and internal tables.", valueName: "name"))
    var schema = "public"

    @Option(name: .customLong("db-password-file"), help: ArgumentHelp(
        "With --db postgres://…: a file holding the password (else PGPASSWORD).", valueName: "path"))
    var passwordFile: String?

    /// The PostgreSQL location of `db`, or `nil` when `db` names an SQLite file.
    func postgresLocation(_ db: String) throws -> PostgresLocation? {
        guard PostgresLocation.isPostgresURL(db) else { return nil }
        var password = ProcessInfo.processInfo.environment["PGPASSWORD"]
        if let passwordFile {
            do {
                password = try String(contentsOfFile: passwordFile, encoding: .utf8)
                    .trimmingCharacters(in: .newlines)
            } catch {
                throw failure(ProjectorError(
                    code: .usage, message: "--db-password-file \(passwordFile): cannot read it (\(error.localizedDescription))"))
            }
        }
        do {
            return try PostgresLocation(url: db, password: password, schema: schema)
        } catch {
            throw failure(ProjectorError(code: .usage, message: "--db \(error)"))
        }
    }

    /// A reader of `db`, or `nil` when it cannot be opened now; prints nothing (a metrics scrape).
    func quietReader(_ db: String) -> (any ViewStoreReader)? {
        guard PostgresLocation.isPostgresURL(db) else { return try? SQLiteViewStore(path: db, configuration: .init(isReadOnly: true)) }
        let password = passwordFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .newlines) }
            ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        guard let location = try? PostgresLocation(url: db, password: password, schema: schema) else { return nil }
        return try? PostgresViewStore(location: location, configuration: .init(isReadOnly: true, connectTimeout: .seconds(2)))
    }

    /// The options to pass on in a suggested command, so that it reaches the same store.
    var arguments: [String] {
        (schema == "public" ? [] : ["--db-schema", schema]) + (passwordFile.map { ["--db-password-file", $0] } ?? [])
    }
}

/// Opens the view store a `--db` value names, or exits 1 with the store's message.
///
/// Every command opens its store here and then uses only the store protocols: `--db` is an
/// SQLite file, or a `postgres://` URL for a PostgreSQL store (`PostgresViewStore`). SQLite
/// writers wait up to a minute (by default) for the write lock: several pipelines of one process
/// (or several processes) share one SQLite file and take turns, one batch transaction at a time;
/// past the timeout a write fails with `.busy`. PostgreSQL writers of one pipeline take turns on
/// an advisory lock with the same timeout (`lock_timeout`), and wait as long for a free connection
/// slot or, after the server went away, for a new connection.
func openStore(
    _ location: String, database: DatabaseOptions, readOnly: Bool = false, busyTimeout: Duration = .seconds(60),
    sqliteCacheKiB: Int? = nil
) throws -> any ViewStore {
    let postgres = try database.postgresLocation(location)
    do {
        if let postgres {
            return try PostgresViewStore(location: postgres, configuration: .init(
                isReadOnly: readOnly, lockTimeout: busyTimeout, reconnectTimeout: busyTimeout))
        }
        var configuration = SQLiteViewStore.Configuration(isReadOnly: readOnly, busyTimeout: busyTimeout)
        if let sqliteCacheKiB { configuration.cacheSizeKiB = sqliteCacheKiB }
        return try SQLiteViewStore(path: location, configuration: configuration)
    } catch {
        throw failure(ProjectorError(code: .database, message: "\(error)"))
    }
}

/// Opens a new store at `path` for a rebuild nobody reads until it is compared (`verify`): no
/// fsync, since a crash only loses the scratch copy. Always a local SQLite file, whatever the
/// live store is: the comparison reads both through the store protocols.
func openScratchStore(_ path: String) throws -> any ViewStore {
    do {
        return try SQLiteViewStore(path: path, configuration: .init(synchronous: .off))
    } catch {
        throw failure(ProjectorError(code: .database, message: "the scratch store: \(error)"))
    }
}

/// Opens `count` read-only connections to the store a `--db` value names, for the read API (each
/// reads in its own snapshots; SQLite opens them read-only, PostgreSQL reads in `READ ONLY`
/// transactions, so no request can write).
func openReadStores(_ location: String, database: DatabaseOptions, count: Int = 2) throws -> [any ViewStoreReader] {
    let postgres = try database.postgresLocation(location)
    do {
        return try (0 ..< count).map { _ in
            if let postgres {
                return try PostgresViewStore(location: postgres, configuration: .init(isReadOnly: true))
            }
            return try SQLiteViewStore(path: location, configuration: .init(isReadOnly: true))
        }
    } catch {
        throw failure(ProjectorError(code: .database, message: "\(error)"))
    }
}
