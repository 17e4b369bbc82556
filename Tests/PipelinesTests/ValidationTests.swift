import Foundation
import Testing
@testable import Pipelines

/// Each case marks the expected error position with `‸` (removed before parsing).
struct InvalidCase: CustomTestStringConvertible, Sendable {
    var name: String
    var yaml: String
    var code: PipelineError.Code
    var messageContains: String = ""

    var testDescription: String { name }

    /// The YAML without the marker, and the marker's 1-based line and column.
    var parts: (text: String, line: Int, column: Int) {
        var line = 1, column = 1, found = (0, 0)
        var text = ""
        for scalar in yaml.unicodeScalars {
            if scalar == "‸" { found = (line, column); continue }
            text.unicodeScalars.append(scalar)
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return (text, found.0, found.1)
    }

    /// Validates the YAML and expects its first problem to have this case's code, position and message.
    func expectFirstProblem() throws {
        let (text, line, column) = parts
        let found = problems(text)
        let problem = try #require(found.first, "expected \(code)")
        #expect(problem.code == code, "\(found)")
        #expect(messageContains.isEmpty || problem.message.contains(messageContains), "\(problem.message)")
        #expect((problem.line, problem.column) == (line, column), "\(problem)")
    }
}

let header = """
name: t
version: 1
source:
  topics: [orders]
  type: $.eventType

"""

@Suite struct ValidationTests {
    static let cases: [InvalidCase] = [
        InvalidCase(name: "unknown key with did-you-mean", yaml: header + """
            views:
              v:
                key: [id]
                ‸colums: {id: text}
            on: {}
            """, code: .unknownKey, messageContains: "did you mean `columns`?"),
        InvalidCase(name: "unknown top-level key", yaml: header + """
            ‸view: {}
            views: {v: {key: [id], columns: {id: text}}}
            on: {}
            """, code: .unknownKey, messageContains: "did you mean `views`?"),
        InvalidCase(name: "bad column type", yaml: header + """
            views:
              v:
                key: [id]
                columns: {id: text, n: ‸integr}
            on: {}
            """, code: .unknownType, messageContains: "did you mean `integer`?"),
        InvalidCase(name: "unknown view", yaml: header + """
            views: {orders: {key: [id], columns: {id: text}}}
            on:
              E:
                - upsert: ‸order
                  key: {id: $.id}
            """, code: .unknownView, messageContains: "did you mean `orders`?"),
        InvalidCase(name: "unknown column in set", yaml: header + """
            views: {v: {key: [id], columns: {id: text, total: real}}}
            on:
              E:
                - upsert: v
                  key: {id: $.id}
                  set: {‸totl: 1}
            """, code: .unknownColumn, messageContains: "did you mean `total`?"),
        InvalidCase(name: "unknown column in an expression", yaml: header + """
            views: {v: {key: [id], columns: {id: text, total: real}}}
            on:
              E:
                - upsert: v
                  key: {id: $.id}
                  set: {total: total + ‸amount}
            """, code: .unknownColumn, messageContains: "`$.amount`"),
        InvalidCase(name: "unknown key column", yaml: header + """
            views: {v: {key: [‸ident], columns: {id: text}}}
            on: {}
            """, code: .unknownColumn),
        InvalidCase(name: "bad path in source.type", yaml: """
            name: t
            version: 1
            source:
              topics: [orders]
              type: $.a[‸x]
            views: {v: {key: [id], columns: {id: text}}}
            on: {}
            """, code: .invalidPath),
        InvalidCase(name: "a wildcard outside sum/count", yaml: header + """
            views: {v: {key: [id], columns: {id: text, q: integer}}}
            on:
              E:
                - upsert: v
                  key: {id: $.id}
                  set:
                    q: 1 + ‸$.items[*].qty
            """, code: .invalidPath, messageContains: "sum() or count()"),
        InvalidCase(name: "bad expression", yaml: header + """
            views: {v: {key: [id], columns: {id: text, n: integer}}}
            on:
              E:
                - upsert: v
                  key: {id: $.id}
                  set:
                    n: n + * 2
            """.replacingOccurrences(of: "n + * 2", with: "n + ‸* 2"), code: .invalidExpression),
        InvalidCase(name: "unknown function", yaml: header + """
            views: {v: {key: [id], columns: {id: text, n: integer}}}
            on:
              E:
                - upsert: v
                  key: {id: $.id}
                  set:
                    n: ‸lowr($.name)
            """, code: .invalidExpression, messageContains: "did you mean `lower`?"),
        InvalidCase(name: "wrong arity", yaml: header + """
            views: {v: {key: [id], columns: {id: text, n: integer}}}
            on:
              E:
                - upsert: v
                  key: {id: $.id}
                  set:
                    n: ‸min(1)
            """, code: .invalidExpression, messageContains: "at least 2"),
        InvalidCase(name: "SQL-looking view name", yaml: header + """
            views:
              ‸orders; drop table x: {key: [id], columns: {id: text}}
            on: {}
            """, code: .invalidName),
        InvalidCase(name: "upper-case column name", yaml: header + """
            views: {v: {key: [id], columns: {id: text, ‸OrderId: text}}}
            on: {}
            """, code: .invalidName),
        InvalidCase(name: "reserved prefix", yaml: header + """
            views: {‸_projector_seen: {key: [id], columns: {id: text}}}
            on: {}
            """, code: .reservedName),
        InvalidCase(name: "duplicate top-level key", yaml: header + """
            views: {v: {key: [id], columns: {id: text}}}
            on: {}
            ‸views: {w: {key: [id], columns: {id: text}}}
            """, code: .duplicateKey),
        InvalidCase(name: "duplicate column", yaml: header + """
            views:
              v:
                key: [id]
                columns:
                  id: text
                  ‸id: integer
            on: {}
            """, code: .duplicateKey),
        InvalidCase(name: "duplicate key in a flow mapping", yaml: header + """
            views: {v: {key: [id], columns: {id: text, n: integer, ‸n: real}}}
            on: {}
            """, code: .duplicateKey),
        InvalidCase(name: "missing key column in an operation", yaml: header + """
            views: {v: {key: [a, b], columns: {a: text, b: text}}}
            on:
              E:
                - upsert: v
                  key: ‸{a: $.a}
            """, code: .missingKeyColumn, messageContains: "missing: b"),
        InvalidCase(name: "a key expression reads a row column", yaml: header + """
            views: {v: {key: [id], columns: {id: text, n: integer}}}
            on:
              E:
                - upsert: v
                  key: {id: ‸n}
            """, code: .keyReadsRow),
        InvalidCase(name: "type mismatch in set", yaml: header + """
            views: {v: {key: [id], columns: {id: text, n: integer}}}
            on:
              E:
                - upsert: v
                  key: {id: $.id}
                  set: {n: ‸"'many'"}
            """, code: .typeMismatch),
        InvalidCase(name: "comparison with null", yaml: header + """
            views: {v: {key: [id], columns: {id: text, n: integer}}}
            on:
              E:
                - update: v
                  key: {id: $.id}
                  set: {n: 1}
                  when: n ‸!= null
            """, code: .typeMismatch, messageContains: "coalesce"),
        InvalidCase(name: "when is not boolean", yaml: header + """
            views: {v: {key: [id], columns: {id: text, n: integer}}}
            on:
              E:
                - update: v
                  key: {id: $.id}
                  set: {n: 1}
                  when: ‸n + 1
            """, code: .typeMismatch),
        InvalidCase(name: "missing required key", yaml: """
            ‸name: t
            version: 1
            source: {topics: [orders], type: $.eventType}
            views: {v: {key: [id], columns: {id: text}}}
            """, code: .missingKey, messageContains: "`on`"),
        InvalidCase(name: "missing key in operation", yaml: header + """
            views: {v: {key: [id], columns: {id: text}}}
            on:
              E:
                - ‸delete: v
            """, code: .missingKey),
        InvalidCase(name: "bad on_error", yaml: header + """
            on_error: ‸dead_letter
            views: {v: {key: [id], columns: {id: text}}}
            on: {}
            """, code: .invalidValue, messageContains: "did you mean `dead-letter`?"),
        InvalidCase(name: "set on a key column", yaml: header + """
            views: {v: {key: [id], columns: {id: text}}}
            on:
              E:
                - upsert: v
                  key: {id: $.id}
                  set: {‸id: "'x'"}
            """, code: .invalidValue),
        InvalidCase(name: "upcast without source.version", yaml: header + """
            views: {v: {key: [id], columns: {id: text}}}
            upcast:
              ‸E: [{from: 1, rename: {$.a: $.b}}]
            on:
              E: [{delete: v, key: {id: $.id}}]
            """.replacingOccurrences(of: "upcast:\n  ‸E", with: "upcast:\n  ‸E"), code: .missingKey),
        InvalidCase(name: "tombstone handler reads the payload", yaml: header + """
            views: {v: {key: [id], columns: {id: text}}}
            on:
              _tombstone:
                - delete: v
                  key: {id: ‸$.id}
            """, code: .invalidPath, messageContains: "tombstone"),
        InvalidCase(name: "YAML syntax", yaml: header + """
            views: {v: {key: [id], columns: {id: text}}
            ‸on: {}
            """, code: .yamlSyntax),
        InvalidCase(name: "a non-constant default", yaml: header + """
            views: {v: {key: [id], columns: {id: text, n: {type: integer, default: ‸$.n}}}}
            on: {}
            """, code: .invalidPath),
        InvalidCase(name: "a default of the wrong type", yaml: header + """
            views: {v: {key: [id], columns: {id: text, n: {type: integer, default: ‸"'zero'"}}}}
            on: {}
            """, code: .typeMismatch),
        InvalidCase(name: "unknown message field", yaml: header + """
            views: {v: {key: [id], columns: {id: text}}}
            on:
              E:
                - upsert: v
                  key: {id: ‸$kye}
            """, code: .invalidExpression, messageContains: "did you mean `$key`?"),
    ]

    @Test(arguments: cases)
    func reportsCodeAndPosition(_ testCase: InvalidCase) throws {
        let (text, line, column) = testCase.parts
        let found = problems(text)
        let first = try #require(found.first, "expected \(testCase.code)")
        #expect(first.code == testCase.code, "\(first)")
        #expect("\(first.line):\(first.column)" == "\(line):\(column)", "\(first)")
        #expect(testCase.messageContains.isEmpty || first.message.contains(testCase.messageContains), "\(first.message)")
        #expect(first.description.hasPrefix("test.yaml:\(first.line):\(first.column): "))
    }

    @Test func reportsEveryProblemInFileOrder() {
        let found = problems(header + """
            views:
              v:
                key: [id]
                columns: {id: text, n: integr, m: flaot}
            on:
              E:
                - upsert: w
                  key: {id: $.id}
            """)
        #expect(found.map(\.code) == [.unknownType, .unknownType, .unknownView])
        #expect(found.map(\.line) == [9, 9, 12])
    }

    @Test func literalPositions() throws {
        let found = problems("name: t\nversion: 1\nsource: {topics: [a], type: $.t}\nviews:\n  v:\n    key: [id]\n    colums: {id: text}\non: {}\n")
        let first = try #require(found.first)
        #expect(first.code == .unknownKey)
        #expect(first.line == 7 && first.column == 5)
        #expect(first.description.contains("test.yaml:7:5: unknown key `colums` in view `v`; did you mean `columns`?"))
    }

    @Test func rejectsAliasBombs() throws {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 { yaml += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let found = problems(yaml)
        #expect(found.first?.code == .tooComplex)
        #expect(found.first?.message.contains("aliases") == true)
    }

    @Test func rejectsDeepYAML() {
        let yaml = "name: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        #expect(problems(yaml).first?.code == .tooComplex, "\(problems(yaml))")
        let blocks = (0..<200).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " x\n"
        #expect(problems(blocks).first?.code == .tooComplex)
    }

    @Test func capsExpressionNesting() throws {
        let deep = String(repeating: "(", count: 100) + "1" + String(repeating: ")", count: 100)
        let found = problems(header + "views: {v: {key: [id], columns: {id: text, n: integer}}}\non:\n  E:\n    - upsert: v\n      key: {id: $.id}\n      set:\n        n: \(deep)\n")
        #expect(found.first?.code == .invalidExpression)
        #expect(found.first?.message.contains("nested deeper") == true)
    }

    @Test func readsOnAsAStringKey() throws {
        let p = try pipeline(header + "views: {v: {key: [id], columns: {id: text}}}\non:\n  E: [{delete: v, key: {id: $.id}}]\n")
        #expect(p.eventTypes == ["E"])
    }

    @Test func hashIgnoresLayoutButNotMeaning() throws {
        let block = try pipeline("""
            # comment
            name: t
            version: 1
            source:
              topics: [orders]
              type: $.eventType
            views:
              v:
                key: [id]
                columns: {id: text, n: integer}
            on:
              E:
                - upsert: v
                  key: {id: $.id}
                  set: {n: n+1}
            """)
        let flow = try pipeline("""
            {version: 1, name: t, on: {E: [{set: {n: "n + 1"}, key: {id: "$.id"}, upsert: v}]},
             views: {v: {columns: {id: text, n: integer}, key: [id]}}, source: {type: $.eventType, topics: [orders]}}
            """)
        #expect(block.hash == flow.hash)
        #expect(block.hash.count == 64)
        let changed = try pipeline(block.canonicalText.isEmpty ? "" : """
            name: t
            version: 1
            source: {topics: [orders], type: $.eventType}
            views: {v: {key: [id], columns: {id: text, n: integer}}}
            on: {E: [{upsert: v, key: {id: $.id}, set: {n: n + 2}}]}
            """)
        #expect(changed.hash != block.hash)
    }

    @Test func sha256KnownAnswers() {
        #expect(DefinitionHash.hex(of: "") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(DefinitionHash.hex(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(DefinitionHash.hex(of: String(repeating: "a", count: 1000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test func unreadableFile() {
        #expect(throws: PipelineError.self) { try Pipeline.load(path: "/nonexistent/p.yaml") }
    }
}
