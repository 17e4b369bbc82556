import Foundation
import Testing
@testable import Pipelines
import ProjectorModel

/// What an expression did: the stored cell, or the event's error code.
enum Outcome: Hashable, Sendable {
    case stored(ViewValue)
    case failed(EventError.Code)
}

/// Runs one expression in `set:` against a fixed event and a new row, returning what is stored.
func evaluate(_ expression: String, into type: ColumnType = .json, event: String = ExpressionTests.event) throws -> Outcome {
    let quoted = "\"" + expression.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    let p = try pipeline("""
        name: t
        version: 1
        source: {topics: [orders], type: $.eventType}
        on_error: skip
        views:
          v:
            key: [id]
            columns:
              id: text
              out: \(type.rawValue)
              i: {type: integer, default: 7}
              r: {type: real, default: 2.5}
              s: {type: text, default: "'abc'"}
              b: {type: boolean, default: true}
              nul: text
        on:
          E:
            - upsert: v
              key: {id: "'k'"}
              set:
                out: \(quoted)
        """)
    let plan = Plan(p)
    var store = MemoryStore(plan)
    let result = try run(plan, [TestMessage(key: "the-key", value: event, offset: 42, timestamp: 1_700_000_000_123)], store: &store)
    if let error = result.errors.first { return .failed(error.code) }
    let row = try #require(store.tables[0][[.text("k")]])
    return .stored(row[1])
}

@Suite struct ExpressionTests {
    static let event = #"{"eventType":"E","n":5,"x":2.5,"name":"Zo\u00eb","items":[{"qty":2,"p":1.5},{"qty":3,"p":2},{"qty":null}],"nothing":null,"flag":true,"big":9223372036854775807,"small":-9223372036854775808,"neg":-7,"obj":{"a":[1,2]},"word":"b"}"#

    /// (expression, the JSON text stored in a json column, or nil for SQL NULL)
    static let values: [(String, String?)] = [
        ("1 + 2", "3"), ("1 + 2 * 3", "7"), ("(1 + 2) * 3", "9"), ("7 - 2 - 1", "4"), ("8 / 2 / 2", "2.0"),
        ("7 / 2", "3.5"), ("-7 % 3", "-1"), ("7 % -3", "1"), ("-$.n", "-5"), ("- -3", "3"), ("$.n * 2.5", "12.5"),
        ("$.missing + 1", nil), ("$.nothing * 2", nil), ("-$.nothing", nil), ("1e2", "100.0"), ("2.5e-1", "0.25"),
        ("'a' || 'b'", "\"ab\""), ("'a' || $.missing", nil), ("'n=' || $.n || '/' || $.x", "\"n=5/2.5\""),
        ("concat('a', $.missing, 1, true)", "\"a1true\""), ("concat($.missing)", "\"\""), ("'it''s'", "\"it's\""),
        ("$.n == 5", "true"), ("$.n == 5.0", "true"), ("$.n != 5", "false"), ("$.x < $.n", "true"), ("$.missing == 1", nil),
        ("'b' > 'a'", "true"), ("$.word >= 'b'", "true"), ("'ab' < 'b'", "true"), ("$.flag == true", "true"),
        ("not $.flag", "false"), ("not $.missing", nil), ("$.missing or true", "true"), ("$.missing and false", "false"),
        ("$.missing and true", nil), ("$.missing or false", nil), ("true or 1 / 0 > 1", "true"), ("not (1 == 2)", "true"),
        ("1 + 2 == 3 and 'a' || 'b' == 'ab'", "true"),
        ("coalesce($.missing, $.nothing, 3)", "3"), ("coalesce($.missing)", nil),
        ("if($.flag, 'y', 'n')", "\"y\""), ("if(not $.flag, 'y', 'n')", "\"n\""), ("if($.missing == 1, 'y', 'n')", "\"n\""),
        ("if($.n > 1, $.n * 2, 1 / 0)", "10"), ("if(b, i, nul)", "7"),
        ("len($.name)", "3"), ("len($.items)", "3"), ("len('')", "0"), ("len($.missing)", nil),
        ("lower('ÄB')", "\"äb\""), ("upper($.name)", "\"ZOË\""), ("lower($.missing)", nil),
        ("min(3, 1, 2)", "1"), ("max(1, 2.5)", "2.5"), ("max('a', 'b')", "\"b\""), ("min(1, $.missing)", nil),
        ("abs(-3)", "3"), ("abs(-2.5)", "2.5"), ("abs($.missing)", nil),
        ("round(2.5)", "3"), ("round(-2.5)", "-3"), ("round(2.4)", "2"), ("round(7)", "7"), ("round(2.5, 0)", "3.0"),
        ("round(1234.5678, 2)", "1234.57"), ("round(1250, -2)", "1300.0"), ("round($.missing)", nil),
        ("sum($.items[*].qty)", "5"), ("sum($.items[*].p)", "3.5"), ("count($.items[*])", "3"), ("count($.items[*].qty)", "2"),
        ("sum($.missing[*].x)", "0"), ("count($.nothing[*])", "0"), ("sum($.obj.a[*])", "3"),
        ("$.items[0].qty", "2"), ("$.items[5].qty", nil), ("$.items[1]", "{\"qty\":3,\"p\":2}"),
        ("$.obj", "{\"a\":[1,2]}"), ("$.name", "\"Zo\\u00eb\""), ("$.small", "-9223372036854775808"),
        ("$key", "\"the-key\""), ("$topic", "\"orders\""), ("$partition", "0"), ("$offset", "42"), ("$timestamp", "1700000000123"),
        ("i + 1", "8"), ("b", "true"), ("s || 'd'", "\"abcd\""), ("nul", nil), ("r * 2", "5.0"), ("null", nil),
    ]

    @Test(arguments: values)
    func evaluates(_ expression: String, _ expected: String?) throws {
        let result = try evaluate(expression)
        #expect(result == .stored(expected.map { .text($0) } ?? .null), "\(expression)")
    }

    static let failures: [(String, EventError.Code)] = [
        ("1 / 0", .divisionByZero), ("1 % 0", .divisionByZero), ("$.n / 0.0", .divisionByZero),
        ("$.big + 1", .overflow), ("$.small - 1", .overflow), ("$.big * 2", .overflow), ("-$.small", .overflow),
        ("abs($.small)", .overflow), ("round(1e300)", .overflow),
        ("$.n < $.name", .typeMismatch), ("$.name + 1", .typeMismatch), ("not $.n", .typeMismatch), ("$.n and true", .typeMismatch),
        ("len($.n)", .typeMismatch), ("upper($.n)", .typeMismatch), ("sum($.name[*])", .typeMismatch),
        ("sum($.items[*])", .typeMismatch), ("$.x % 2", .typeMismatch), ("max($.n, $.name)", .typeMismatch),
        ("$.obj == $.obj", .typeMismatch),
    ]

    @Test(arguments: failures)
    func failsTheEvent(_ expression: String, _ code: EventError.Code) throws {
        #expect(try evaluate(expression) == .failed(code), "\(expression)")
    }

    /// Storing into typed columns: integer → real converts; any other mismatch fails the event.
    static let stores: [(String, ColumnType, Outcome)] = [
        ("$.n", .real, .stored(.real(5))), ("$.x", .real, .stored(.real(2.5))), ("$.n", .integer, .stored(.integer(5))),
        ("$.x", .integer, .failed(.typeMismatch)), ("$.name", .integer, .failed(.typeMismatch)),
        ("$.name", .text, .stored(.text("Zoë"))), ("$.n", .text, .failed(.typeMismatch)),
        ("$.flag", .boolean, .stored(.integer(1))), ("not $.flag", .boolean, .stored(.integer(0))),
        ("$.n", .boolean, .failed(.typeMismatch)), ("$.missing", .integer, .stored(.null)),
        ("$.obj", .text, .failed(.typeMismatch)), ("'x'", .json, .stored(.text("\"x\""))),
        ("'a\"b\\n'", .json, .stored(.text(#""a\"b\\n""#))),
    ]

    @Test(arguments: stores)
    func storesByColumnType(_ expression: String, _ type: ColumnType, _ expected: Outcome) throws {
        #expect(try evaluate(expression, into: type) == expected, "\(expression) into \(type)")
    }

    @Test func canonicalFormIgnoresSpacingAndKeepsMeaning() throws {
        let a = try ExpressionParser.parse("a+b*2 ||'x'")
        let b = try ExpressionParser.parse(" a + (b * 2)  || 'x' ")
        #expect(a.canonical == b.canonical)
        #expect(a.canonical == "((a + (b * 2)) || 'x')")
        #expect(try ExpressionParser.parse("(a + b) * 2").canonical != a.canonical)
        #expect(try ExpressionParser.parse("1 - 2 - 3").canonical == "((1 - 2) - 3)")
        #expect(try ExpressionParser.parse("not a == b").canonical == "((not a) == b)")
        #expect(try ExpressionParser.parse("a or b and c").canonical == "(a or (b and c))")
    }

    static let syntaxErrors: [(String, Int)] = [
        ("1 +", 3), ("(1", 2), ("'abc", 0), ("$.", 2), ("$.a[", 4), ("a = b", 2), ("\"x\"", 0), ("1 2", 2), ("f(1)", 0), ("$foo", 0),
        ("a |", 2), ("1abc", 1), ("", 0), ("coalesce()", 0), ("if(true, 1)", 0),
    ]

    @Test(arguments: syntaxErrors)
    func reportsSyntaxErrorOffsets(_ text: String, _ offset: Int) {
        #expect(throws: ExpressionSyntaxError.self) { try ExpressionParser.parse(text) }
        do { _ = try ExpressionParser.parse(text) } catch { #expect(error.offset == offset, "\(text): \(error.message)") }
    }
}

