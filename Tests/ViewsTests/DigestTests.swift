import Foundation
import Pipelines
import ProjectorTesting
import Testing
@testable import Views
import ProjectorModel

@Suite("View digests")
struct DigestTests {
    @Test("equal views have equal digests whatever the write order; one changed cell is found", arguments: StoreKind.allCases)
    func digestAndDifferingKeys(kind: StoreKind) throws {
        let first = try kind.open()
        let second = try kind.open()
        let changes = (0..<200).map { Orders.order("o\($0)", customer: "c\($0 % 7)", total: Double($0) / 4, items: Int64($0)) }
        for (store, batch) in [(first.store, changes), (second.store, changes.reversed())] {
            try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
            try store.write(pipeline: Orders.name) { tx in try tx.apply(batch) }
        }
        #expect(try first.store.digest(ofView: "order_summary") == second.store.digest(ofView: "order_summary"))
        #expect(try first.store.digest(ofView: "order_summary").rowCount == 200)
        #expect(try first.store.differingKeys(inView: "order_summary", comparedWith: second.store, limit: 10).isEmpty)

        try second.store.write(pipeline: Orders.name) { tx in
            try tx.apply([Orders.order("o42", customer: "c0", total: 10.5, items: 43)])
        }
        #expect(try first.store.digest(ofView: "order_summary") != second.store.digest(ofView: "order_summary"))
        #expect(try first.store.differingKeys(inView: "order_summary", comparedWith: second.store, limit: 10) == [[.text("o42")]])

        try second.store.write(pipeline: Orders.name) { tx in
            try tx.apply([Orders.deleteOrder("o7"), Orders.order("p1")])
        }
        #expect(try first.store.differingKeys(inView: "order_summary", comparedWith: second.store, limit: 10)
            == [[.text("o42")], [.text("o7")], [.text("p1")]])
        #expect(try first.store.differingKeys(inView: "order_summary", comparedWith: second.store, limit: 2).count == 2)
    }

    @Test("a cell of another type but equal value is a difference")
    func typeExactDifference() throws {
        let view = ViewDefinition(
            name: "anything",
            columns: [
                ColumnDefinition(name: "id", type: .text, defaultValue: .null),
                ColumnDefinition(name: "value", type: .json, defaultValue: .null),
            ],
            keyColumns: [0])
        let left = try SQLiteViewStore.inMemory()
        let right = try SQLiteViewStore.inMemory()
        for store in [left, right] {
            try store.prepare(pipeline: "p", version: 1, hash: "h", views: [view])
        }
        try left.write(pipeline: "p") { tx in try tx.apply([ViewChange(view: 0, key: [.text("a")], row: [.text("a"), .text("1")])]) }
        try right.write(pipeline: "p") { tx in try tx.apply([ViewChange(view: 0, key: [.text("a")], row: [.text("a"), .text("1.0")])]) }
        #expect(try left.digest(ofView: "anything") != right.digest(ofView: "anything"))
        #expect(try left.differingKeys(inView: "anything", comparedWith: right, limit: 5) == [[.text("a")]])
    }

    @Test("the canonical row encoding is type exact and deterministic")
    func canonicalEncoding() {
        func digest(_ rows: [[ViewValue]]) -> ViewDigest {
            var digest = RowDigest()
            for row in rows {
                row.forEach { digest.append($0) }
                digest.endRow()
            }
            return digest.digest
        }
        let one = [digest([[.integer(1)]]), digest([[.real(1)]]), digest([[.text("1")]]), digest([[.null]])]
        #expect(Set(one).count == 4)
        // Cell boundaries matter: ("ab", "c") is not ("a", "bc").
        #expect(digest([[.text("ab"), .text("c")]]) != digest([[.text("a"), .text("bc")]]))
        #expect(digest([[.integer(1)], [.integer(2)]]) == digest([[.integer(2)], [.integer(1)]]))
        #expect(digest([]) == ViewDigest(rowCount: 0, high: 0, low: 0))
        // Pinned so a change of encoding or hash is a deliberate, visible break of `verify`.
        #expect(digest([[.text("o1"), .integer(1), .real(2.5), .null]]).description.count == 2 + 32)
    }

    @Test("MurmurHash3 x64-128 matches the reference vectors")
    func murmurVectors() {
        func hash(_ text: String) -> String {
            let (h1, h2) = Array(text.utf8).withUnsafeBytes { murmurHash3x64_128($0) }
            return String(format: "%016llx%016llx", h1, h2)
        }
        // h1 and h2 as hex numbers (mmh3.hash_bytes prints the same bytes little-endian).
        #expect(hash("") == "00000000000000000000000000000000")
        #expect(hash("hello") == "cbd8a7b341bd9b025b1e906a48ae1d19")
        #expect(hash("The quick brown fox jumps over the lazy dog") == "e34bbc7bbc071b6c7a433ca9c49a9347")
    }

    @Test("keys order as SQLite orders them")
    func keyOrder() {
        #expect(ViewValue.order([.null], [.integer(0)]) < 0)
        #expect(ViewValue.order([.integer(1)], [.real(1.5)]) < 0)
        #expect(ViewValue.order([.real(2)], [.text("")]) < 0)
        #expect(ViewValue.order([.text("B")], [.text("a")]) < 0)
        #expect(ViewValue.order([.text("a"), .integer(2)], [.text("a"), .integer(10)]) < 0)
        #expect(ViewValue.order([.text("é")], [.text("z")]) > 0)
    }
}

@Suite("Comparing a live view with its rebuild")
struct LiveShadowComparisonTests {
    @Test("a live view and its shadow table compare within one store", arguments: StoreKind.allCases)
    func liveAgainstShadow(kind: StoreKind) throws {
        let store = try kind.open().store
        try store.prepare(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        try store.prepareShadow(pipeline: Orders.name, version: 1, hash: Orders.hash, views: Orders.views)
        let changes = (0..<20).map { Orders.order("o\($0)") }
        try store.write(pipeline: Orders.name) { tx in try tx.apply(changes) }
        try store.write(pipeline: Orders.name, target: .shadow) { tx in try tx.apply(changes.reversed()) }
        #expect(try store.digest(ofView: "order_summary") == store.digest(ofView: "_projector_shadow_order_summary"))
        #expect(try store.differingKeys(inView: "order_summary", comparedWith: store, otherView: "_projector_shadow_order_summary", limit: 5).isEmpty)

        try store.write(pipeline: Orders.name, target: .shadow) { tx in try tx.apply([Orders.order("o3", items: 2)]) }
        #expect(try store.differingKeys(inView: "order_summary", comparedWith: store, otherView: "_projector_shadow_order_summary", limit: 5)
            == [[.text("o3")]])
        let mismatch = try #require(throws: ViewStoreError.self) {
            try store.differingKeys(inView: "order_summary", comparedWith: store, otherView: "customer_stats", limit: 5)
        }
        #expect(mismatch.code == .schemaMismatch)
    }
}
