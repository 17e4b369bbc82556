import PostgresViews
import Testing

/// `--db postgres://…` URLs: what `PostgresLocation` takes from them and how it names them.
@Suite("PostgreSQL locations")
struct PostgresLocationTests {
    @Test("options= carries server settings, percent-decoded, and shows again in the description")
    func options() throws {
        let location = try PostgresLocation(
            url: "postgres://projector@db:5433/views?sslmode=disable&options=-c%20statement_timeout%3D5s", password: "secret")
        #expect(location.options == "-c statement_timeout=5s")
        #expect(location.tlsMode == .disable && location.port == 5433 && location.password == "secret")
        #expect(location.description == "postgres://projector@db:5433/views?sslmode=disable&options=-c%20statement_timeout%3D5s")
        #expect(try PostgresLocation(url: "postgres://projector@db/views").options == nil)
    }

    @Test("an empty options= or an unknown parameter is refused, saying what to write")
    func refused() {
        #expect(throws: PostgresLocationError.self) { try PostgresLocation(url: "postgres://p@db/views?options=") }
        do {
            _ = try PostgresLocation(url: "postgres://p:pw@db/views?connect_timeout=3")
            Issue.record("accepted an unknown parameter")
        } catch {
            #expect("\(error)".contains("connect_timeout") && "\(error)".contains("only sslmode and options are"))
            #expect(!"\(error)".contains("pw@"), "the password is not shown: \(error)")
        }
    }
}
