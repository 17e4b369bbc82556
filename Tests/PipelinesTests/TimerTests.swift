import Foundation
import Testing
@testable import Pipelines
import ProjectorModel

/// `schedule:` and `cancel_schedule:`: validation with positions, and what the plan does with
/// timers: schedule, replace, cancel, fire once in (due, event, key) order by stream time, the
/// fired handler's emits, and the same result whatever the batch boundaries.
@Suite struct TimerTests {
    static let timerHeader = header + """
        emit_topics: [commands]
        views: {v: {key: [id], columns: {id: text, n: integer, fired: text}}}

        """

    static let cases: [InvalidCase] = [
        InvalidCase(name: "a bad duration", yaml: timerHeader + """
            on:
              E:
                - schedule: {after: ‸15 minutes, event: E, key: $key}
            """, code: .invalidValue, messageContains: "500ms, 30s, 15m, 2h or 1d"),
        InvalidCase(name: "a zero duration", yaml: timerHeader + """
            on:
              E:
                - schedule: {after: ‸0s, event: E, key: $key}
            """, code: .invalidValue, messageContains: "not a duration"),
        InvalidCase(name: "an event without handler", yaml: timerHeader + """
            on:
              E:
                - schedule: {after: 15m, event: ‸Timeuot, key: $key}
              Timeout:
                - delete: v
                  key: {id: $key}
            """, code: .unknownEvent, messageContains: "did you mean `Timeout`?"),
        InvalidCase(name: "cancelling an event without handler", yaml: timerHeader + """
            on:
              E:
                - cancel_schedule: {event: ‸Nothing, key: $key}
            """, code: .unknownEvent, messageContains: "add a handler `Nothing:`"),
        InvalidCase(name: "a timer without key", yaml: timerHeader + """
            on:
              E:
                - schedule: ‸{after: 15m, event: E}
            """, code: .missingKey, messageContains: "needs `key`"),
        InvalidCase(name: "a timer without after", yaml: timerHeader + """
            on:
              E:
                - schedule: ‸{event: E, key: $key}
            """, code: .missingKey, messageContains: "needs `after`"),
        InvalidCase(name: "data that would replace the type", yaml: timerHeader + """
            on:
              E:
                - schedule: {after: 1s, event: E, key: $key, data: {‸eventType: "'X'"}}
            """, code: .invalidValue, messageContains: "`source.type`"),
        InvalidCase(name: "a timer reads no row", yaml: timerHeader + """
            on:
              E:
                - schedule: {after: 1s, event: E, key: ‸n}
            """, code: .keyReadsRow),
        InvalidCase(name: "cancel takes no after", yaml: timerHeader + """
            on:
              E:
                - cancel_schedule: {event: E, key: $key, ‸after: 1s}
            """, code: .unknownKey),
    ]

    @Test(arguments: cases)
    func reportsCodeAndPosition(_ testCase: InvalidCase) throws {
        try testCase.expectFirstProblem()
    }

    static let yaml = timerHeader + """
        on_error: skip
        on:
          Start:
            - upsert: v
              key: {id: $key}
              set: {n: "coalesce(n, 0) + 1"}
            - schedule: {after: 10s, event: Timeout, key: $key, data: {reason: "'slow'", n: $.n}}
          Stop:
            - cancel_schedule: {event: Timeout, key: $key}
          Timeout:
            - upsert: v
              key: {id: $key}
              set: {fired: "coalesce(fired, '') || $.reason"}
            - emit: {topic: commands, key: $key, value: {type: "'Cancel'", n: $.n, at: $.eventType}}
          Tick:
            - upsert: v
              key: {id: "'tick'"}
              set: {n: "coalesce(n, 0) + 1"}
        """

    static let t0: Int64 = 1_700_000_000_000

    static func event(_ type: String, _ key: String, at offset: Int64, _ seconds: Double, n: Int = 0, partition: Int32 = 0) -> TestMessage {
        TestMessage(key: key, value: #"{"eventType":"\#(type)","n":\#(n)}"#, partition: partition, offset: offset,
                    timestamp: t0 + Int64(seconds * 1000))
    }

    /// a starts, b starts, a starts again (its timer moves), c starts and stops; ticks pass the deadlines.
    static let stream: [TestMessage] = [
        event("Start", "a", at: 0, 0, n: 1),
        event("Start", "b", at: 1, 1, n: 2),
        event("Start", "a", at: 2, 2, n: 3),
        event("Start", "c", at: 3, 3),
        event("Stop", "c", at: 4, 4),
        event("Tick", "-", at: 5, 10.5),
        event("Tick", "-", at: 6, 11),
        event("Stop", "nobody", at: 7, 11.5),
        event("Tick", "-", at: 8, 20),
        event("Tick", "-", at: 9, 30),
    ]

    @Test func schedulesReplacesCancelsAndFiresOnceByStreamTime() throws {
        let plan = Plan(try pipeline(Self.yaml))
        let timers = try #require(plan.timersView)
        #expect(plan.views[timers] == Timers.definition(pipeline: "t"))
        #expect(plan.views[timers + 1] == Timers.queueDefinition(pipeline: "t"))
        var store = MemoryStore(plan)
        try run(plan, Array(Self.stream[0..<5]), store: &store)
        let pending = store.rows(plan, Timers.tableName(pipeline: "t"))
        #expect(pending.map { $0["key"] } == [.text("a"), .text("b")], "c was cancelled")
        #expect(pending.first?["due"] == .integer(Self.t0 + 12_000), "the second Start of a replaced its timer")
        #expect(pending.first?["data"] == .text(#"{"reason":"slow","n":3}"#))
        #expect(store.rows(plan, Timers.queueName(pipeline: "t")).count == 2, "one queue row per timer")

        try run(plan, [Self.stream[5]], store: &store)
        #expect(store.rows(plan, "v").allSatisfy { $0["fired"] == .null }, "nothing is due at 10.5 s")
        try run(plan, Array(Self.stream[6...]), store: &store)
        let views = store.rows(plan, "v")
        #expect(views.first { $0["id"] == .text("a") }?["fired"] == .text("slow"), "fired once")
        #expect(views.first { $0["id"] == .text("b") }?["fired"] == .text("slow"))
        #expect(views.first { $0["id"] == .text("c") }?["fired"] == .null)
        #expect(store.rows(plan, Timers.tableName(pipeline: "t")).isEmpty)
        #expect(store.rows(plan, Timers.queueName(pipeline: "t")).isEmpty)

        let outbox = store.rows(plan, Outbox.tableName(pipeline: "t"))
        #expect(outbox.count == 2)
        let b = try #require(outbox.first { $0["key"] == .text("b") })
        #expect(b["id"] == .text("t/timer/orders/0/\(Self.t0 + 11_000)/Timeout/b/0"))
        #expect(b["source_offset"] == .integer(6), "keyed by the event it fired before")
        #expect(b["emit"] == .integer(Timers.outboxEmit(firing: 0, emit: 0)))
        #expect(b["value"] == .text(#"{"type":"Cancel","n":2,"at":"Timeout"}"#))
        #expect(b["timestamp"] == .integer(Self.t0 + 11_000), "the fired event's timestamp is its due time")
        let a = try #require(outbox.first { $0["key"] == .text("a") })
        #expect(a["id"] == .text("t/timer/orders/0/\(Self.t0 + 12_000)/Timeout/a/0"))
        #expect(a["source_offset"] == .integer(8))
    }

    @Test func timersDueTogetherFireInEventAndKeyOrderBeforeTheEvent() throws {
        let plan = Plan(try pipeline(Self.yaml))
        var store = MemoryStore(plan)
        try run(plan, [
            Self.event("Start", "y", at: 0, 0), Self.event("Start", "x", at: 1, 0),
            Self.event("Start", "w", at: 2, 0, partition: 1),
            Self.event("Tick", "-", at: 3, 10),
        ], store: &store)
        let outbox = store.rows(plan, Outbox.tableName(pipeline: "t")).sorted {
            ViewValue.precedes([$0["source_offset"]!, $0["emit"]!], [$1["source_offset"]!, $1["emit"]!])
        }
        #expect(outbox.map { $0["key"] } == [.text("x"), .text("y")], "in key order; partition 1 has not reached 10 s")
        #expect(outbox.map { $0["emit"] } == [.integer(Timers.outboxEmit(firing: 0, emit: 0)), .integer(Timers.outboxEmit(firing: 1, emit: 0))])
        #expect(store.rows(plan, "v").first { $0["id"] == .text("tick") }?["n"] == .integer(1))
        #expect(store.rows(plan, Timers.tableName(pipeline: "t")).map { $0["key"] } == [.text("w")])
    }

    @Test func batchBoundariesDoNotChangeViewsTimersOrOutbox() throws {
        let plan = Plan(try pipeline(Self.yaml))
        var whole = MemoryStore(plan)
        try run(plan, Self.stream, store: &whole)
        var single = MemoryStore(plan)
        for message in Self.stream { try run(plan, [message], store: &single) }
        var pairs = MemoryStore(plan)
        for start in stride(from: 0, to: Self.stream.count, by: 3) {
            try run(plan, Array(Self.stream[start..<min(start + 3, Self.stream.count)]), store: &pairs)
        }
        #expect(whole.tables == single.tables)
        #expect(whole.tables == pairs.tables)
        #expect(!whole.tables[plan.outboxView!].isEmpty)
    }

    @Test func aFailingTimerIsDroppedUnderSkipAndStopsTheBatchUnderFail() throws {
        let failing = Self.yaml.replacingOccurrences(of: "n: $.n, at: $.eventType", with: "n: upper($.n), at: $.eventType")
        let skip = Plan(try pipeline(failing))
        var store = MemoryStore(skip)
        // upper() of the object the Start event carried fails in the fired handler's emit.
        let start = TestMessage(key: "a", value: #"{"eventType":"Start","n":{"o":1}}"#, offset: 0, timestamp: Self.t0)
        let skipped = try run(skip, [start, Self.event("Tick", "-", at: 1, 10)], store: &store)
        #expect(skipped.counters.skipped == 1)
        #expect(skipped.counters.applied == 2, "the event it fired before applies")
        #expect(store.rows(skip, Timers.tableName(pipeline: "t")).isEmpty, "dropped")
        #expect(store.rows(skip, "v").first { $0["id"] == .text("a") }?["fired"] == .null, "nothing of the failed firing")

        let fail = Plan(try pipeline(failing.replacingOccurrences(of: "on_error: skip", with: "on_error: fail")))
        var failStore = MemoryStore(fail)
        // b's timer (due first, its handler works) and a's (failing) fire ahead of the same event.
        var later = start
        later.offset = 1
        let early = TestMessage(key: "b", value: #"{"eventType":"Start","n":"ok"}"#, offset: 0, timestamp: Self.t0 - 1_000)
        let stopped = try run(fail, [early, later, Self.event("Tick", "-", at: 2, 10)], store: &failStore)
        #expect(stopped.stoppedAt == 2)
        #expect(stopped.errors.first?.message.contains("timer `Timeout` of key `a`") == true, "\(stopped.errors)")
        #expect(failStore.rows(fail, Timers.tableName(pipeline: "t")).count == 2, "both timers stay for the next run")
        #expect(failStore.rows(fail, Outbox.tableName(pipeline: "t")).isEmpty, "b's firing is undone with a's")
    }

    @Test func timersAreInTheHashOnlyWhenUsed() throws {
        let base = try pipeline(Self.yaml)
        let later = try pipeline(Self.yaml.replacingOccurrences(of: "after: 10s", with: "after: 11s"))
        #expect(base.hash != later.hash)
        let plain = header + "views: {v: {key: [id], columns: {id: text}}}\non: {}\n"
        #expect(!(try pipeline(plain)).hasTimers)
        #expect(Plan(try pipeline(plain)).timersView == nil)
    }

    @Test func durations() {
        #expect(ScheduleSpec.milliseconds("500ms") == 500)
        #expect(ScheduleSpec.milliseconds("30s") == 30_000)
        #expect(ScheduleSpec.milliseconds("15m") == 900_000)
        #expect(ScheduleSpec.milliseconds("2h") == 7_200_000)
        #expect(ScheduleSpec.milliseconds("1d") == 86_400_000)
        for bad in ["", "m", "-5m", "1.5h", "5", "5 m", "5w", "0ms", "99999999999d"] { #expect(ScheduleSpec.milliseconds(bad) == nil, "\(bad)") }
    }
}
