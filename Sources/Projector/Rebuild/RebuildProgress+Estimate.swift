/// The time a rebuild has left, from how its pace changed as it went.
extension RebuildProgress {
    /// Estimates the time left from the progress so far, fitted as the run goes.
    ///
    /// A rebuild's rate is rarely constant: reading a large log gets slower as the shadow tables
    /// outgrow SQLite's cache, and a broker that looks each fetch's offset up from the start of
    /// the partition (librdkafka's mock) slows down as the offsets grow. A constant-rate
    /// extrapolation then promises a fraction of the time actually left. The estimator models the
    /// pace (seconds per event) as a straight line in the events done, which is elapsed time as a
    /// parabola in the events done, fitted by least squares over the whole run so far, and adds up
    /// the fitted pace over the events left. The curvature is kept only where it explains most of
    /// what a straight line (a constant pace) leaves (residuals under a quarter of the line's): a
    /// smooth decay, not the bursts of a run on a busy machine, which a fit would follow and an
    /// average dilutes. Before the fit it caps each stretch's pace at four
    /// times the median, so one stall (a broker failing over, a long checkpoint) does not bend
    /// the line for the rest of the run; the pace at the end stays between half and four times
    /// the pace now.
    ///
    /// The rows folded in memory are written each time the window fills (seconds at a time) and
    /// once more at the end. Those writes would make the time curve a staircase that no smooth
    /// fit extrapolates, so they are taken out of it: the fit is of the time spent reading and
    /// evaluating, and the writes are added back as the bytes left to write (the window's now,
    /// plus the bytes folded per event so far for the events left) at the seconds per byte the
    /// last writes took. The window's first writes come early and small (``RebuildWindow/limit``),
    /// so that cost is known long before the window's full-size writes.
    ///
    /// Fed after every batch; keeps a point per ~0.5 % of the events (at most ``capacity``), so
    /// each update costs a few thousand instructions however long the run.
    struct Estimator: Sendable {
        /// Events done and seconds elapsed outside window writes at each kept point, in order.
        private(set) var points: [(events: Double, seconds: Double)] = []
        /// Seconds a batch takes without writing the window (moving average).
        private(set) var batchSeconds: Double?
        /// Seconds per byte the window's writes took (moving average), nil before the first write.
        private(set) var writeSecondsPerByte: Double?
        /// Least-squares sums of each write's seconds per byte against the bytes written before
        /// its middle, each write weighted by its bytes (Σw, Σwx, Σwy, Σwxy, Σwx²): a write costs
        /// more per byte as the tables grow, and a small write's fixed costs (its commit) do not
        /// count for as much as a full window's.
        private(set) var writeTrend = [0.0, 0, 0, 0, 0]
        /// Seconds spent writing the window, bytes written, and the events done at the last write.
        private(set) var written: (seconds: Double, bytes: Double, events: Double) = (0, 0, 0)
        /// The window's writes seen.
        private(set) var writes = 0
        /// The most points kept; beyond it every other point is dropped.
        static let capacity = 400
        /// How many times the median pace a stretch may count for in the fit.
        static let stallCap = 4.0

        /// Records that `events` were done after `elapsed` (`total`: what the run reads in all),
        /// the last batch having taken `batchSeconds` to evaluate and store, including writing
        /// `wroteBytes` of folded rows (0: it did not write the window).
        mutating func record(events: Int, total: Int64, elapsed: Duration, batchSeconds: Double = 0, wroteBytes: Int = 0) {
            if batchSeconds.isFinite, batchSeconds > 0 {
                if wroteBytes > 0, let plain = self.batchSeconds {
                    let write = max(batchSeconds - plain, 0)
                    noteWrite(bytes: wroteBytes, seconds: write)
                    written.seconds += write
                    written.events = Double(events)
                } else if wroteBytes > 0 {
                    // A write in the first batch: its evaluation's share is not known yet, so it
                    // tells nothing about a write's cost (all of that batch would count as one).
                    written.bytes += Double(wroteBytes)
                } else {
                    self.batchSeconds = self.batchSeconds.map { 0.8 * $0 + 0.2 * batchSeconds } ?? batchSeconds
                }
            }
            let point = (events: Double(events), seconds: Self.seconds(elapsed) - written.seconds)
            guard let last = points.last else {
                if events > 0 { points.append(point) }
                return
            }
            guard point.events > last.events else { return }
            if points.count >= 2, point.events - points[points.count - 2].events < Double(max(total, 1)) / 200 {
                // The last point is less than 0.5 % from the one before it: move it instead of adding one.
                points[points.count - 1] = point
                return
            }
            points.append(point)
            if points.count > Self.capacity {
                points = points.indices.filter { $0 % 2 == 0 || $0 == points.count - 1 }.map { points[$0] }
            }
        }

        /// Records a window written on the shadow writer's thread while the rebuild read on:
        /// `bytes` written in `seconds` of that thread. Its time is not the rebuild's (the fit
        /// keeps any wait for it), but it tells what the last window's write will cost.
        mutating func recordBackgroundWrite(bytes: Int, seconds: Double) {
            guard bytes > 0, seconds.isFinite, seconds >= 0 else { return }
            noteWrite(bytes: bytes, seconds: seconds)
        }

        /// Adds a write of `bytes` that took `seconds` to the cost per byte (moving average) and
        /// its trend, and to the bytes written.
        private mutating func noteWrite(bytes: Int, seconds: Double) {
            let perByte = seconds / Double(bytes)
            writeSecondsPerByte = writeSecondsPerByte.map { 0.5 * $0 + 0.5 * perByte } ?? perByte
            let x = written.bytes + Double(bytes) / 2
            let w = Double(bytes)
            for (index, term) in [w, w * x, w * perByte, w * x * perByte, w * x * x].enumerated() { writeTrend[index] += term }
            written.bytes += Double(bytes)
            writes += 1
        }

        /// The time left for `remaining` more events, with the window holding `unwrittenBytes`
        /// of folded rows, or nil before there is a pace.
        ///
        /// With `lastWindow` (the most a window holds), full windows are written on the shadow
        /// writer's thread while the rebuild reads on (`inFlightBytes` of them being written now;
        /// `foldedBytes` counts every window folded so far, written, being written or held): the
        /// reading and the writes before the last window run side by side, so the slower of the
        /// two decides, and the last window's write comes after both.
        func remaining(
            _ remaining: Int64, unwrittenBytes: Int = 0, foldedBytes: Int? = nil, lastWindow: Int? = nil, inFlightBytes: Int = 0
        ) -> Duration? {
            guard let last = points.last, last.seconds > 0 else { return nil }
            var writing = 0.0
            var writingAlongside = 0.0
            if let writeSecondsPerByte {
                // The bytes folded per event so far, written or held: the window's rows grow with
                // the events read whether or not a write came since.
                let folded = foldedBytes.map(Double.init) ?? written.bytes + Double(unwrittenBytes)
                let perEvent = folded / max(last.events, 1)
                let bytes = Double(unwrittenBytes) + Double(max(remaining, 0)) * perEvent
                if let lastWindow {
                    let tail = min(bytes, Double(lastWindow))
                    writing = tail * writeCost(at: folded + bytes - tail / 2, recent: writeSecondsPerByte)
                    // Half the window in flight is left to write, on average. At the recent cost,
                    // not the trend's: a rising trend, extrapolated, had the writes outlast the
                    // reading where they kept up (20,000,000 events: +77 % at the 20 % line).
                    writingAlongside = (bytes - tail + Double(inFlightBytes) / 2) * writeSecondsPerByte
                } else {
                    writing = bytes * writeCost(at: written.bytes + bytes / 2, recent: writeSecondsPerByte)
                }
            }
            guard remaining > 0 else { return Self.duration(writingAlongside + writing) }
            let left = Double(remaining)
            guard points.count >= 3 else {
                // Too few points for a trend: the mean pace so far.
                let first = points.count == 2 ? points[0] : (events: 0.0, seconds: 0.0)
                let reading = left * (last.seconds - first.seconds) / (last.events - first.events)
                return Self.duration(max(reading, writingAlongside) + writing)
            }
            let fit = Self.fit(points)
            let now = max(fit.pace(at: last.events), fit.meanPace / 4)
            let end = min(max(fit.pace(at: last.events + left), now / 2), now * 4)
            // The pace is a straight line between now and the end: its mean times the events left.
            return Self.duration(max(left * (now + end) / 2, writingAlongside) + writing)
        }

        /// Seconds per byte of a write with `bytes` written before it: the line through the
        /// writes so far where it rises (the tables outgrow SQLite's cache), between the `recent`
        /// cost and four times it.
        func writeCost(at bytes: Double, recent: Double) -> Double {
            let (n, sx, sy, sxy, sxx) = (writeTrend[0], writeTrend[1], writeTrend[2], writeTrend[3], writeTrend[4])
            guard writes >= 2, n * sxx - sx * sx > 0 else { return recent }
            let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
            guard slope > 0 else { return recent }
            let line = (sy - slope * sx) / n + slope * bytes
            return min(max(line, recent), recent * 4)
        }

        /// Pace as a line `a + b · events`, from the stall-capped time curve.
        struct Fit {
            var a: Double
            var b: Double
            var meanPace: Double
            func pace(at events: Double) -> Double { a + b * events }
        }

        /// Least squares of `seconds ≈ c + a·e + b·e²/2` over the points, each stretch's pace
        /// capped at ``stallCap`` times the median; `e` is scaled to the last point for conditioning.
        static func fit(_ points: [(events: Double, seconds: Double)]) -> Fit {
            let scale = points[points.count - 1].events
            var paces: [Double] = []
            paces.reserveCapacity(points.count - 1)
            for index in 1 ..< points.count {
                paces.append((points[index].seconds - points[index - 1].seconds) / (points[index].events - points[index - 1].events))
            }
            let cap = paces.sorted()[paces.count / 2] * stallCap
            // Sums for the normal equations over (1, x, x²/2), x = events / scale.
            var s = [Double](repeating: 0, count: 9)
            var rhs = [0.0, 0.0, 0.0]
            var seconds = 0.0
            for index in points.indices {
                if index > 0 {
                    let stretch = points[index].events - points[index - 1].events
                    seconds += min(paces[index - 1], cap) * stretch
                }
                let x = points[index].events / scale
                let row = [1, x, x * x / 2]
                for i in 0 ..< 3 {
                    rhs[i] += row[i] * seconds
                    for j in 0 ..< 3 { s[i * 3 + j] += row[i] * row[j] }
                }
            }
            let meanPace = seconds / (points[points.count - 1].events - points[0].events)
            guard let solution = solve(s, rhs) else { return Fit(a: meanPace, b: 0, meanPace: meanPace) }
            // A straight line through the same capped curve: keep the curvature only where it
            // explains most of what the line leaves (a smooth decay), not a burst.
            let n = s[0], sx = s[1], sxx = s[4], sy = rhs[0], sxy = rhs[1]
            let slope = (n * sxy - sx * sy) / max(n * sxx - sx * sx, 1e-12)
            let intercept = (sy - slope * sx) / n
            var lineError = 0.0
            var curveError = 0.0
            seconds = 0
            for index in points.indices {
                if index > 0 {
                    seconds += min(paces[index - 1], cap) * (points[index].events - points[index - 1].events)
                }
                let x = points[index].events / scale
                let line = seconds - (intercept + slope * x)
                let curve: Double = seconds - (solution[0] + solution[1] * x + solution[2] * x * x / 2)
                lineError += line * line
                curveError += curve * curve
            }
            if curveError > lineError / 4 { return Fit(a: slope / scale, b: 0, meanPace: meanPace) }
            // d seconds / d events = (a_x + b_x · x) / scale.
            return Fit(a: solution[1] / scale, b: solution[2] / (scale * scale), meanPace: meanPace)
        }

        /// Solves the 3×3 system `m · v = rhs` (Cramer's rule), or nil when it is singular.
        static func solve(_ m: [Double], _ rhs: [Double]) -> [Double]? {
            func det(_ c0: [Double], _ c1: [Double], _ c2: [Double]) -> Double {
                c0[0] * (c1[1] * c2[2] - c2[1] * c1[2]) - c1[0] * (c0[1] * c2[2] - c2[1] * c0[2])
                    + c2[0] * (c0[1] * c1[2] - c1[1] * c0[2])
            }
            let columns = [[m[0], m[3], m[6]], [m[1], m[4], m[7]], [m[2], m[5], m[8]]]
            let d = det(columns[0], columns[1], columns[2])
            guard abs(d) > 1e-12 * max(1, m[0] * m[0] * m[0]) else { return nil }
            return [det(rhs, columns[1], columns[2]) / d, det(columns[0], rhs, columns[2]) / d,
                    det(columns[0], columns[1], rhs) / d]
        }

        static func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }

        static func duration(_ seconds: Double) -> Duration? {
            seconds.isFinite && seconds >= 0 ? .milliseconds(Int64(min(seconds, 1e9) * 1000)) : nil
        }
    }
}
