internal import Foundation

/// The wall clock as ISO-8601 text (UTC, milliseconds): metadata only, never in view rows.
package func wallClockTime() -> String {
    Date().formatted(.iso8601.year().month().day().dateSeparator(.dash)
        .time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(separator: .omitted))
}
