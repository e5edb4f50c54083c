import Foundation

/// Maps instants (Unix milliseconds) to calendar days in one time zone.
///
/// Asking Foundation for a zone offset costs far more than parsing a log line, and log lines
/// arrive mostly in time order, so the calendar remembers the UTC span of the last day it
/// resolved and answers from it while instants stay inside. One calendar per worker: it is a
/// value with a cache, not shared state.
public struct DayCalendar: Sendable {
    public let timeZone: TimeZone
    @usableFromInline var cachedStart: Int64 = 1
    @usableFromInline var cachedEnd: Int64 = 0
    @usableFromInline var cachedDay: Int32 = 0

    public init(timeZone: TimeZone) { self.timeZone = timeZone }

    /// The calendar day, in this zone, that contains the instant.
    ///
    /// Inlinable: every record of a check asks, from another module (the line loops), and the
    /// call was its own symbol in a profile of the four-file check (0.75 % of its CPU).
    @inlinable @inline(__always)
    public mutating func day(ofMillis millis: Int64) -> Int32 {
        if millis >= cachedStart && millis < cachedEnd { return cachedDay }
        return resolve(millis)
    }

    @usableFromInline
    mutating func resolve(_ millis: Int64) -> Int32 {
        let seconds = floorDiv(millis, 1000)
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
        let day = floorDiv(seconds + offset, 86_400)
        // The day's UTC span, valid only if the offset is the same at both ends (no DST change).
        let startSeconds = day * 86_400 - offset
        let endSeconds = startSeconds + 86_400
        let offsetAtEnd = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(endSeconds - 1))))
        let offsetAtStart = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(startSeconds))))
        if offsetAtEnd == offset && offsetAtStart == offset {
            cachedStart = startSeconds * 1000
            cachedEnd = endSeconds * 1000
            cachedDay = Int32(day)
        } else {
            cachedStart = 1
            cachedEnd = 0
        }
        return Int32(day)
    }

    /// The calendar day in this zone that contains `date`.
    public mutating func day(of date: Date) -> CivilDay {
        CivilDay(daysSinceEpoch: day(ofMillis: Int64((date.timeIntervalSince1970 * 1000).rounded(.down))))
    }
}

@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
