public import Projector
internal import Foundation

/// Streams the generated demo events (``DemoStream``: orders, payments, inventory) to a running
/// cluster at a steady rate, so that workers elsewhere — the three of `docker/compose.yaml` — have
/// a live stream to project and their lag, partition status and rebalances have something to show.
public struct DemoFeed: Sendable {
    /// The topics ``DemoStream`` writes to; they must exist (producing never creates a topic).
    public static let topics = ["inventory", "orders", "payments"]

    /// Bootstrap servers.
    public var brokers: String
    /// How many events to produce.
    public var events: Int
    /// Events per second; `nil` produces as fast as the cluster takes them.
    public var rate: Int?
    /// librdkafka properties for the producer.
    public var properties: [String: String]

    /// Creates a feed.
    public init(brokers: String, events: Int, rate: Int?, properties: [String: String] = [:]) {
        self.brokers = brokers
        self.events = events
        self.rate = rate
        self.properties = properties
    }

    /// Produces the stream in slices of a tenth of a second's worth of events, each delivered
    /// before the next starts, until `events` were sent or `signal` is triggered.
    /// - Parameter progress: called after each slice with the events delivered so far.
    /// - Returns: the events delivered per topic.
    /// - Throws: the producer's error for a failed delivery.
    public func run(until signal: ShutdownSignal, progress: (Int) -> Void) throws -> [String: Int] {
        let publisher = try EventPublisher(brokers: brokers, properties: properties)
        let slice = rate.map { max($0 / 10, 1) } ?? 10_000
        let clock = ContinuousClock()
        let start = clock.now
        var stream = DemoStream(count: events).makeIterator()
        var delivered: [String: Int] = [:]
        var sent = 0
        while sent < events, !signal.isTriggered {
            var batch: [DemoEvent] = []
            batch.reserveCapacity(slice)
            while batch.count < slice, let event = stream.next() { batch.append(event) }
            if batch.isEmpty { break }
            delivered.merge(try publisher.publish(batch), uniquingKeysWith: +)
            sent += batch.count
            progress(sent)
            if let rate {
                // Pacing, not synchronisation: the slice is ahead of the rate by this much.
                let ahead = start + .milliseconds(Int64(sent) * 1000 / Int64(rate)) - clock.now
                if ahead > .zero { Thread.sleep(forTimeInterval: ahead.seconds) }
            }
        }
        return delivered
    }
}
