import Foundation
import KafkaClient
import ProjectorHTTP
import ProjectorModel
import ProjectorTestSupport
import ProjectorTesting
import Testing
import Views

extension ReadServerTests {
    /// The read API over real HTTP against a real SQLite file and a real PostgreSQL schema (the
    /// same requests, the same answers); answers parsed with JSONSerialization.
    @Suite("read API: views, rows, filters, pagination")
    struct ReadAPITests {
        static func seeded(_ kind: ReadStoreKind) throws -> ReadFixture {
            let fixture = try ReadFixture(kind)
            try fixture.write([
                ReadFixture.item("a-1", "Anvil", price: 12.5, stock: 3, active: true, tags: #"{"colour":"black","sizes":[1,2]}"#, note: nil),
                ReadFixture.item("b-2", "Bolt, small", price: 0.25, stock: 500, active: false, tags: "[]", note: "100% steel"),
                ReadFixture.item("c-3", "Chain", price: 7, stock: 0, active: true, tags: nil, note: "line\nbreak \"quoted\""),
                ViewChange(view: 1, key: [.text("o-1"), .integer(1)], row: [.text("o-1"), .integer(1), .integer(2)]),
                ViewChange(view: 1, key: [.text("o-1"), .integer(2)], row: [.text("o-1"), .integer(2), .integer(5)]),
            ], checkpoints: [0: 10, 1: 4])
            return fixture
        }

        @Test("GET /views lists each view with columns, declared types, key, pipeline, generation and position", arguments: ReadStoreKind.allCases)
        func listsViews(kind: ReadStoreKind) throws {
            let fixture = try Self.seeded(kind)
            let answer = try fixture.get("/views")
            #expect(answer.status == 200)
            let views = try #require(try answer.object()["views"] as? [[String: Any]])
            #expect(views.map { $0["name"] as? String } == ["items", "lines"])
            let items = views[0]
            #expect(items["pipeline"] as? String == "shop")
            #expect((items["key"] as? [String]) == ["sku"])
            #expect((views[1]["key"] as? [String]) == ["order_id", "line"])
            let columns = try #require(items["columns"] as? [[String: String]])
            #expect(columns.map { $0["name"]! } == ["sku", "name", "price", "stock", "active", "tags", "note"])
            #expect(columns.map { $0["type"]! } == ["text", "text", "real", "integer", "boolean", "json", "text"])
            #expect((items["generation"] as? String)?.count == 16)
            // A row's answer is read at the same generation /views lists.
            let rowPosition = try #require(try fixture.get("/views/items/rows/a-1").headers["projector-position"])
            #expect(try KafkaPosition(token: rowPosition).generation == items["generation"] as? String)
            let position = try KafkaPosition(token: try #require(items["position"] as? String))
            #expect(position.offsets == ["orders": [0: 10, 1: 4]])
            #expect(try KafkaPosition(token: try #require(answer.headers["projector-position"])).offsets == ["orders": [0: 10, 1: 4]])
        }

        @Test("one row by key is typed JSON: numbers, booleans, JSON as JSON, text escaped, null; composite keys both ways; 404", arguments: ReadStoreKind.allCases)
        func rowByKey(kind: ReadStoreKind) throws {
            let fixture = try Self.seeded(kind)
            let answer = try fixture.get("/views/items/rows/a-1")
            #expect(answer.status == 200)
            #expect(answer.text == #"{"sku":"a-1","name":"Anvil","price":12.5,"stock":3,"active":true,"tags":{"colour":"black","sizes":[1,2]},"note":null}"#)
            let chain = try fixture.get("/views/items/rows/c-3").object()
            #expect(chain["note"] as? String == "line\nbreak \"quoted\"")
            #expect(chain["price"] as? Double == 7)
            #expect(chain["tags"] is NSNull)
            #expect(try fixture.get("/views/items/rows/b-2").text.contains(#""active":false,"tags":[]"#))
            #expect(try fixture.get("/views/items/rows/b-2").headers["etag"] != nil)

            #expect(try fixture.get("/views/lines/rows/o-1,2").object()["qty"] as? Int == 5)
            #expect(try fixture.get("/views/lines/rows?key.order_id=o-1&key.line=1").object()["qty"] as? Int == 2)
            let missing = try fixture.get("/views/items/rows/zzz")
            #expect(missing.status == 404)
            #expect(try missing.object()["code"] as? String == "noSuchRow")
            #expect(missing.headers["projector-position"] != nil)
            let encoded = try fixture.get("/views/items/rows/b%2D2")
            #expect(try encoded.object()["name"] as? String == "Bolt, small")
        }

        @Test("filters on declared columns: eq, ne, lt, le, gt, ge, in, is.null, like; order by any column", arguments: ReadStoreKind.allCases)
        func filters(kind: ReadStoreKind) throws {
            let fixture = try Self.seeded(kind)
            func skus(_ query: String) throws -> [String] {
                let answer = try fixture.get("/views/items/rows?" + query)
                #expect(answer.status == 200, "\(query): \(answer.text)")
                return try #require(try answer.object()["rows"] as? [[String: Any]]).map { $0["sku"] as! String }
            }
            #expect(try skus("") == ["a-1", "b-2", "c-3"])
            #expect(try skus("active=eq.true") == ["a-1", "c-3"])
            #expect(try skus("active=ne.true") == ["b-2"])
            #expect(try skus("price=lt.7") == ["b-2"])
            #expect(try skus("price=le.7") == ["b-2", "c-3"])
            #expect(try skus("stock=gt.0&stock=lt.100") == ["a-1"])
            #expect(try skus("stock=ge.3") == ["a-1", "b-2"])
            #expect(try skus("sku=in.a-1,c-3,x") == ["a-1", "c-3"])
            #expect(try skus("note=is.null") == ["a-1"])
            #expect(try skus("note=is.not_null") == ["b-2", "c-3"])
            #expect(try skus("name=like.%25l%25") == ["a-1", "b-2"])
            #expect(try skus("name=like.B%25") == ["b-2"])
            #expect(try skus("order=price.desc") == ["a-1", "c-3", "b-2"])
            #expect(try skus("order=note") == ["a-1", "b-2", "c-3"])
            #expect(try skus("order=note.desc") == ["c-3", "b-2", "a-1"])
            #expect(try skus("order=sku.desc") == ["c-3", "b-2", "a-1"])
        }

        @Test("keyset pagination in every order walks each row exactly once while other rows are inserted, updated and deleted", arguments: ReadStoreKind.allCases)
        func paginationWhileRowsChange(kind: ReadStoreKind) throws {
            let fixture = try ReadFixture(kind)
            var changes: [ViewChange] = []
            for index in 0 ..< 120 {
                // Prices repeat, so the key breaks ties; every tenth note is NULL.
                changes.append(ReadFixture.item(String(format: "s-%03d", index), "item \(index)", price: Double(index % 7),
                                                stock: Int64(index), active: index % 2 == 0, tags: nil, note: index % 10 == 0 ? nil : "n\(index % 13)"))
            }
            try fixture.write(changes, checkpoints: [0: 1])
            let stable = Set((0 ..< 120).filter { $0 % 3 != 0 }.map { String(format: "s-%03d", $0) })
            for order in ["", "&order=sku.desc", "&order=price", "&order=price.desc", "&order=note", "&order=note.desc", "&order=active.desc"] {
                var seen: [String] = []
                var after: String?
                var page = 0
                var round = 0
                repeat {
                    let query = "/views/items/rows?limit=7" + order + (after.map { "&after=" + $0 } ?? "")
                    let answer = try fixture.get(query)
                    try #require(answer.status == 200, "\(query): \(answer.text)")
                    let body = try answer.object()
                    seen += try #require(body["rows"] as? [[String: Any]]).map { $0["sku"] as! String }
                    after = body["next"] as? String
                    page += 1
                    // Between pages another writer deletes a row divisible by 3, inserts a new one and
                    // updates a stable row's stock (not its order column).
                    round += 1
                    var writes = [ReadFixture.item("n-\(round)-\(order)", "new", price: 3, stock: 1, active: true, tags: nil, note: "x")]
                    if round * 3 < 120 {
                        writes.append(ViewChange(view: 0, key: [.text(String(format: "s-%03d", round * 3))], row: nil))
                        var updated = changes[round * 3 + 1]
                        updated.row?[3] = .integer(999)
                        writes.append(updated)
                    }
                    try fixture.write(writes, checkpoints: [0: Int64(1 + round)])
                } while after != nil && page < 100
                let stableSeen = seen.filter(stable.contains)
                #expect(stableSeen.count == stable.count, "order \(order): \(stable.subtracting(stableSeen).sorted()) missing")
                #expect(Set(seen).count == seen.count, "order \(order): a row came twice")
                // Put the fixture back: the deleted rows again, the inserted ones gone.
                try fixture.write(changes + (1 ... round).map { ViewChange(view: 0, key: [.text("n-\($0)-\(order)")], row: nil) })
            }
        }

        @Test("the cursor is bound to its order; the last page has next null", arguments: ReadStoreKind.allCases)
        func cursorIsBoundToItsOrder(kind: ReadStoreKind) throws {
            let fixture = try Self.seeded(kind)
            let first = try fixture.get("/views/items/rows?limit=2&order=price").object()
            let cursor = try #require(first["next"] as? String)
            let wrong = try fixture.get("/views/items/rows?limit=2&order=stock&after=" + cursor)
            #expect(wrong.status == 400)
            #expect(try wrong.object()["error"] as? String ?? "" == "the cursor continues a page ordered by price.asc, not stock.asc; repeat the query with the order of the page that gave it")
            let second = try fixture.get("/views/items/rows?limit=2&order=price&after=" + cursor).object()
            #expect((second["rows"] as? [[String: Any]])?.map { $0["sku"] as! String } == ["a-1"])
            #expect(second["next"] is NSNull)
        }

        @Test("hostile requests get 4xx with a clear message and leave the store as it was", arguments: ReadStoreKind.allCases)
        func hostileRequests(kind: ReadStoreKind) throws {
            let fixture = try Self.seeded(kind)
            let cases: [(String, [String: String], Int, String)] = [
                ("/views/nope/rows", [:], 404, "no view nope; GET /views lists the views"),
                ("/views/items/rows?colour=eq.red", [:], 400, "cannot filter on colour: view items has no such column; its columns are sku, name, price, stock, active, tags, note"),
                ("/views/items/rows?order=price%3BDROP%20TABLE%20items", [:], 400, "cannot order by price;DROP TABLE items: view items has no such column; its columns are sku, name, price, stock, active, tags, note"),
                ("/views/items/rows?name%22%20OR%201=eq.1", [:], 400, "cannot filter on name\" OR 1: view items has no such column; its columns are sku, name, price, stock, active, tags, note"),
                ("/views/items/rows?stock=eq.1%20OR%201=1", [:], 400, "stock is an integer column; '1 OR 1=1' is not a 64-bit integer"),
                ("/views/items/rows?limit=1000000", [:], 400, "limit must be from 1 to 1000; got 1000000"),
                ("/views/items/rows?limit=99999999999999999999", [:], 400, "limit=99999999999999999999: give a whole number of rows"),
                ("/views/items/rows?limit=0", [:], 400, "limit must be from 1 to 1000; got 0"),
                ("/views/items/rows?after=bm90IGEgY3Vyc29y", [:], 400, "after=: not a cursor of this API; pass the next cursor of a page unchanged, or start again without after="),
                ("/views/items/rows?after=%25%25%25", [:], 400, "after=: not a cursor of this API; pass the next cursor of a page unchanged, or start again without after="),
                ("/views/items/rows?stock=between.1", [:], 400, "stock=between.1: a filter is <column>=<operator>.<value> with an operator of eq, ne, lt, le, gt, ge, in, is, like (e.g. status=eq.shipped)"),
                ("/views/items/rows?stock=like.1%25", [:], 400, "stock=like.: like is for text columns; stock is integer"),
                ("/views/items/rows?note=is.maybe", [:], 400, "note=is.maybe: is takes null or not_null"),
                ("/views/lines/rows/o-1", [:], 400, "view lines has a key of 2 column(s) (order_id, line); got 1 value(s). A key value containing a comma goes in ?key.<column>=<value>"),
                ("/views/lines/rows?key.order_id=o-1&key.nope=1", [:], 400, "nope is not a key column of view lines; its key is (order_id, line)"),
                ("/views/items/rows", ["Projector-Min-Position": "garbage!"], 400, "Projector-Min-Position: not a position token (it is not base64url text); pass a Projector-Position or `projector produce` token unchanged"),
                ("/views/items/rows?min_position=cDE7O29yZGVyczp4PTE", [:], 400, "Projector-Min-Position: not a position token ('x=1' is not partition=offset); pass a Projector-Position or `projector produce` token unchanged"),
                ("/views/items/rows", ["Projector-Min-Position": ReadFixture.token([0: 1]), "Prefer": "wait=31"], 400, "Prefer: wait=31 is over this server's limit of 30 s; ask for at most wait=30"),
                ("/views/items/rows", ["Prefer": "wait=soon"], 400, "Prefer: wait=soon: give a number of seconds"),
                ("/views/items/rows/a%00", [:], 400, "sku: a value cannot contain U+0000 (NUL); remove it"),
                ("/views/items/rows?name=like.%25%00", [:], 400, "name: a value cannot contain U+0000 (NUL); remove it"),
            ]
            for (path, headers, status, message) in cases {
                let answer = try fixture.get(path, headers: headers)
                #expect(answer.status == status, "\(path): \(answer.text)")
                #expect(try answer.object()["error"] as? String == message, "\(path)")
            }
            // A value that is SQL is only ever a value.
            let injected = try fixture.get("/views/items/rows?name=eq.x%27%20OR%20%271%27=%271")
            #expect(answer(injected) == 0)
            #expect(answer(try fixture.get("/views/items/rows?sku=in.a-1%27)%20OR%20(%271")) == 0)
            #expect(try fixture.store.rows(ofView: "items").rows.count == 3)
            #expect(try fixture.store.rows(ofView: "lines").rows.count == 2)

            func answer(_ answer: HTTPAnswer) -> Int {
                #expect(answer.status == 200, "\(answer.text)")
                return ((try? answer.object())?["rows"] as? [Any])?.count ?? -1
            }
        }

        @Test("a row's ETag is its generation and stored values: 304 while other rows move, a new tag when it changes; pages and 404s carry the position's", arguments: ReadStoreKind.allCases)
        func entityTags(kind: ReadStoreKind) throws {
            let fixture = try Self.seeded(kind)
            let first = try fixture.get("/views/items/rows/a-1")
            let tag = try #require(first.headers["etag"])
            let token = try #require(first.headers["projector-position"])
            let generation = try #require(try KafkaPosition(token: token).generation)
            #expect(tag.hasPrefix("\"\(generation)-r"))
            let unchanged = try fixture.get("/views/items/rows/a-1", headers: ["If-None-Match": tag])
            #expect(unchanged.status == 304)
            #expect(unchanged.headers["etag"] == tag)
            #expect(unchanged.headers["projector-position"] == first.headers["projector-position"])
            let page = try #require(try fixture.get("/views/items/rows").headers["etag"])
            #expect(try fixture.get("/views/items/rows/zzz").headers["etag"] == page)

            // Another row moves the view: this row's tag holds, the page's and a 404's move.
            try fixture.write([ReadFixture.item("d-4", "Drill", price: 40, stock: 1, active: true, tags: nil, note: nil)], checkpoints: [0: 11])
            let elsewhere = try fixture.get("/views/items/rows/a-1", headers: ["If-None-Match": tag])
            #expect(elsewhere.status == 304)
            #expect(elsewhere.headers["projector-position"] != first.headers["projector-position"])
            let movedPage = try #require(try fixture.get("/views/items/rows", headers: ["If-None-Match": page]).headers["etag"])
            #expect(movedPage != page)
            #expect(try fixture.get("/views/items/rows/zzz").headers["etag"] == movedPage)

            // The row itself changes (one cell, by a real's last bit): a new tag; back as it was: the old tag.
            let anvil = ReadFixture.item("a-1", "Anvil", price: 12.5, stock: 3, active: true, tags: #"{"colour":"black","sizes":[1,2]}"#, note: nil)
            try fixture.write([ReadFixture.item("a-1", "Anvil", price: 12.5.nextUp, stock: 3, active: true, tags: #"{"colour":"black","sizes":[1,2]}"#, note: nil)],
                              checkpoints: [0: 12])
            let changed = try fixture.get("/views/items/rows/a-1", headers: ["If-None-Match": tag])
            #expect(changed.status == 200)
            #expect(changed.headers["etag"] != tag)
            try fixture.write([anvil], checkpoints: [0: 13])
            #expect(try fixture.get("/views/items/rows/a-1", headers: ["If-None-Match": tag]).status == 304)
        }

        @Test("GET /openapi.yaml serves docs/openapi.yaml")
        func openAPI() throws {
            let fixture = try ReadFixture()
            let answer = try fixture.get("/openapi.yaml")
            #expect(answer.status == 200)
            let file = try String(contentsOfFile: ProjectorExecutable.repositoryRoot.appendingPathComponent("docs/openapi.yaml").path, encoding: .utf8)
            #expect(answer.text.trimmingCharacters(in: .whitespacesAndNewlines) == file.trimmingCharacters(in: .whitespacesAndNewlines),
                    "Sources/ProjectorHTTP/OpenAPIDocument.swift must hold docs/openapi.yaml")
        }

        @Test("with a bearer token, /views needs it (401 otherwise); /healthz does not")
        func bearerToken() throws {
            let fixture = try ReadFixture(bearerToken: "s3cret")
            #expect(try fixture.get("/views").status == 401)
            #expect(try fixture.get("/views", headers: ["Authorization": "Bearer wrong"]).status == 401)
            #expect(try fixture.get("/views", headers: ["Authorization": "Bearer s3cret"]).status == 200)
            #expect(try fixture.get("/healthz").status != 401)
        }
    }
}
