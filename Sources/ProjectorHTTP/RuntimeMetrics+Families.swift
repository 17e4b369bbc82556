public import Projector

extension RuntimeMetrics {
    /// The runtime's measurements as Prometheus families (`projector_…`, base units, `_total` counters).
    public func families() -> [MetricFamily] {
        let snapshots = snapshots()
        typealias Sample = MetricFamily.Sample
        var events: [Sample] = [], batches: [Sample] = [], batchDurations: [Sample] = [], commitDurations: [Sample] = []
        var checkpoints: [Sample] = [], lagRecords: [Sample] = [], lagSeconds: [Sample] = [], lastApplied: [Sample] = []
        var statuses: [Sample] = [], assigned: [Sample] = [], rebalances: [Sample] = []
        var roundTrips: [Sample] = [], fetchMessages: [Sample] = [], fetchBytes: [Sample] = [], kafkaLag: [Sample] = []
        for snapshot in snapshots {
            let pipeline = [("pipeline", snapshot.pipeline)]
            for (topic, counts) in snapshot.events.sorted(by: { $0.key < $1.key }) {
                for (outcome, count) in zip(EventOutcome.allCases, counts) {
                    events.append(Sample(labels: pipeline + [("topic", topic), ("outcome", outcome.rawValue)], value: Double(count)))
                }
            }
            batches.append(Sample(labels: pipeline, value: Double(snapshot.batches)))
            batchDurations += Self.samples(snapshot.batchDuration, labels: pipeline)
            commitDurations += Self.samples(snapshot.commitDuration, labels: pipeline)
            for partition in snapshot.partitions {
                let labels = pipeline + [("topic", partition.topic), ("partition", String(partition.partition))]
                checkpoints.append(Sample(labels: labels, value: Double(partition.checkpoint)))
                lagRecords.append(Sample(labels: labels, value: Double(partition.lagRecords)))
                lagSeconds.append(Sample(labels: labels, value: partition.lagSeconds))
                if let timestamp = partition.lastAppliedTimestamp { lastApplied.append(Sample(labels: labels, value: timestamp)) }
                for status in PartitionStatus.allCases {
                    statuses.append(Sample(labels: labels + [("status", status.rawValue)], value: status == partition.status ? 1 : 0))
                }
            }
            assigned.append(Sample(labels: pipeline, value: Double(snapshot.partitions.count)))
            if let kafka = snapshot.kafka {
                for (broker, seconds) in kafka.brokerRoundTrip.sorted(by: { $0.key < $1.key }) {
                    roundTrips.append(Sample(labels: pipeline + [("broker", broker)], value: seconds))
                }
                for partition in kafka.partitions {
                    let labels = pipeline + [("topic", partition.topic), ("partition", String(partition.partition))]
                    fetchMessages.append(Sample(labels: labels, value: Double(partition.fetchQueueMessages)))
                    fetchBytes.append(Sample(labels: labels, value: Double(partition.fetchQueueBytes)))
                    if partition.consumerLag >= 0 { kafkaLag.append(Sample(labels: labels, value: Double(partition.consumerLag))) }
                }
            }
            rebalances.append(Sample(labels: pipeline, value: Double(snapshot.rebalances)))
        }
        var rebuildDone: [Sample] = [], rebuildTarget: [Sample] = [], rebuildETA: [Sample] = []
        for rebuild in rebuildSnapshots() {
            let labels = [("pipeline", rebuild.pipeline)]
            rebuildDone.append(Sample(labels: labels, value: Double(rebuild.eventsDone)))
            rebuildTarget.append(Sample(labels: labels, value: Double(rebuild.eventsTarget)))
            if let eta = rebuild.etaSeconds { rebuildETA.append(Sample(labels: labels, value: eta)) }
        }
        return [
            MetricFamily(name: "projector_events_total", help: "Events consumed, by pipeline, topic and outcome.", kind: .counter, samples: events),
            MetricFamily(name: "projector_batches_total", help: "Batches committed to the store.", kind: .counter, samples: batches),
            MetricFamily(name: "projector_batch_duration_seconds", help: "Time to apply one batch: projection and store transaction.",
                         kind: .histogram, samples: batchDurations),
            MetricFamily(name: "projector_commit_duration_seconds", help: "Time the store took to commit one batch.",
                         kind: .histogram, samples: commitDurations),
            MetricFamily(name: "projector_checkpoint_offset", help: "The next offset the pipeline applies (its stored checkpoint).",
                         kind: .gauge, samples: checkpoints),
            MetricFamily(name: "projector_lag_records",
                         help: "Records not yet applied: the high watermark last fetched minus the checkpoint; 0 when caught up.",
                         kind: .gauge, samples: lagRecords),
            MetricFamily(name: "projector_lag_seconds", help: "Age of the oldest record not yet applied, from record timestamps; 0 when caught up.",
                         kind: .gauge, samples: lagSeconds),
            MetricFamily(name: "projector_last_applied_timestamp_seconds", help: "Timestamp of the last applied record, Unix seconds.",
                         kind: .gauge, samples: lastApplied),
            MetricFamily(name: "projector_partition_status",
                         help: "1 for the partition's current status (ok, idle, warn, stall, stop, rewind), 0 for the others.",
                         kind: .gauge, samples: statuses),
            MetricFamily(name: "projector_assigned_partitions", help: "Partitions assigned to the pipeline's consumer.", kind: .gauge, samples: assigned),
            MetricFamily(name: "projector_rebalances_total", help: "Partition assignments the pipeline's consumer received.",
                         kind: .counter, samples: rebalances),
            MetricFamily(name: "projector_kafka_broker_rtt_seconds", help: "librdkafka's average round trip to each broker.",
                         kind: .gauge, samples: roundTrips),
            MetricFamily(name: "projector_kafka_fetch_queue_messages", help: "Messages librdkafka fetched and holds for the next polls.",
                         kind: .gauge, samples: fetchMessages),
            MetricFamily(name: "projector_kafka_fetch_queue_bytes", help: "Bytes librdkafka fetched and holds for the next polls.",
                         kind: .gauge, samples: fetchBytes),
            MetricFamily(name: "projector_kafka_consumer_lag_records",
                         help: "The lag librdkafka sees from the group's committed offsets (informational; projector_lag_records is exact).",
                         kind: .gauge, samples: kafkaLag),
            MetricFamily(name: "projector_rebuild_events", help: "Events a rebuild applied to its shadow tables so far.", kind: .gauge, samples: rebuildDone),
            MetricFamily(name: "projector_rebuild_target_events", help: "Events up to the rebuild's target positions.",
                         kind: .gauge, samples: rebuildTarget),
            MetricFamily(name: "projector_rebuild_eta_seconds", help: "Estimated seconds until the rebuild reaches its target.",
                         kind: .gauge, samples: rebuildETA),
        ]
    }

    private static func samples(_ histogram: DurationHistogram, labels: [(String, String)]) -> [MetricFamily.Sample] {
        var samples: [MetricFamily.Sample] = []
        var cumulative: UInt64 = 0
        for (index, bound) in DurationHistogram.bounds.enumerated() {
            cumulative += histogram.counts[index]
            samples.append(.init(suffix: "_bucket", labels: labels + [("le", String(bound))], value: Double(cumulative)))
        }
        samples.append(.init(suffix: "_bucket", labels: labels + [("le", "+Inf")], value: Double(histogram.count)))
        samples.append(.init(suffix: "_sum", labels: labels, value: histogram.sum))
        samples.append(.init(suffix: "_count", labels: labels, value: Double(histogram.count)))
        return samples
    }
}
