import CustodyCore
import Foundation

/// A `time_format` compiled once and applied to bytes: strftime-style directives (`%Y %m %d %H
/// %M %S %f %z %Z %b …`), or one of the whole-value forms `epoch_s`, `epoch_ms`, `epoch_us`,
/// `epoch_ns`, `iso8601`, `clf`. A value must match to its last byte; anything else is not a
/// time (never a guess).
struct TimeFormat: Sendable {
    enum Whole: Sendable { case epochSeconds, epochMillis, epochMicros, epochNanos, iso8601, clf, auto, syslog }

    enum Token: Sendable, Equatable {
        case literal(UInt8)
        case space
        case year4, year2, month, monthName, day, spaceDay, hour24, hour12, minute, second, fraction
        case ampm, weekday, zoneOffset, zoneName, epoch, percent
    }

    let whole: Whole?
    let tokens: [Token]
    /// `tokens` in memory of their own: the per-line loop then touches no array.
    private let storage: TokenStorage

    private final class TokenStorage: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Token>
        let count: Int
        init(_ tokens: [Token]) {
            count = tokens.count
            pointer = .allocate(capacity: max(count, 1))
            pointer.initialize(from: tokens, count: count)
        }
        deinit {
            pointer.deinitialize(count: count)
            pointer.deallocate()
        }
    }
    /// The directives are CLF's (`%d/%b/%Y:%H:%M:%S %z`, nginx's `$time_local`): such a value
    /// is first read by the built-in CLF reader, ~0.5 of the directive loop's cost a line; a value
    /// it does not take still goes through the directives, so the result is the same.
    private let clfDirectives: Bool
    private static let clfTokens: [Token] = [
        .day, .literal(0x2F), .monthName, .literal(0x2F), .year4, .literal(0x3A), .hour24, .literal(0x3A), .minute,
        .literal(0x3A), .second, .space, .zoneOffset,
    ]
    /// `clfMillis` may read this format's values: `clf`, the default (whose `dd/…` values are
    /// CLF), or CLF's directives.
    private let readsCLF: Bool
    /// The parsed time carries a zone (`%z`, `%Z`, epoch, ISO with zone, CLF).
    let hasZone: Bool
    let hasYear: Bool

    /// The default for formats with no `time_format`: RFC 3339 with a zone, epoch numbers, CLF.
    static let automatic = TimeFormat(whole: .auto, tokens: [], hasZone: true, hasYear: true)

    /// Syslog's times: RFC 5424's RFC 3339, else RFC 3164's `Mmm dd HH:MM:SS` (no year, no zone).
    static let syslog = TimeFormat(whole: .syslog, tokens: [], hasZone: false, hasYear: false)
    private static let rfc3164 = try! TimeFormat("%b %e %H:%M:%S")

    private init(whole: Whole?, tokens: [Token], hasZone: Bool, hasYear: Bool) {
        self.whole = whole
        self.tokens = tokens
        storage = TokenStorage(tokens)
        clfDirectives = whole == nil && tokens == Self.clfTokens
        readsCLF = clfDirectives || whole == .clf || whole == .auto
        self.hasZone = hasZone
        self.hasYear = hasYear
    }

    /// Compiles `text`; the error message names the directive at fault.
    init(_ text: String) throws(TimeFormatError) {
        switch text {
        case "epoch_s":
            self.init(whole: .epochSeconds, tokens: [], hasZone: true, hasYear: true)
            return
        case "epoch_ms":
            self.init(whole: .epochMillis, tokens: [], hasZone: true, hasYear: true)
            return
        case "epoch_us":
            self.init(whole: .epochMicros, tokens: [], hasZone: true, hasYear: true)
            return
        case "epoch_ns":
            self.init(whole: .epochNanos, tokens: [], hasZone: true, hasYear: true)
            return
        case "iso8601", "rfc3339":
            self.init(whole: .iso8601, tokens: [], hasZone: true, hasYear: true)
            return
        case "clf":
            self.init(whole: .clf, tokens: [], hasZone: true, hasYear: true)
            return
        default: break
        }
        var tokens: [Token] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x20 || c == 0x09 {
                if tokens.last != .space { tokens.append(.space) }
                i += 1
                continue
            }
            guard c == 0x25 else {
                tokens.append(.literal(c))
                i += 1
                continue
            }
            guard i + 1 < bytes.count else { throw TimeFormatError("ends with a lone '%'") }
            let d = bytes[i + 1]
            i += 2
            switch d {
            case UInt8(ascii: "Y"): tokens.append(.year4)
            case UInt8(ascii: "y"): tokens.append(.year2)
            case UInt8(ascii: "m"): tokens.append(.month)
            case UInt8(ascii: "b"), UInt8(ascii: "h"), UInt8(ascii: "B"): tokens.append(.monthName)
            case UInt8(ascii: "d"): tokens.append(.day)
            case UInt8(ascii: "e"): tokens.append(.spaceDay)
            case UInt8(ascii: "H"): tokens.append(.hour24)
            case UInt8(ascii: "I"): tokens.append(.hour12)
            case UInt8(ascii: "M"): tokens.append(.minute)
            case UInt8(ascii: "S"): tokens.append(.second)
            case UInt8(ascii: "f"): tokens.append(.fraction)
            case UInt8(ascii: "p"): tokens.append(.ampm)
            case UInt8(ascii: "a"), UInt8(ascii: "A"): tokens.append(.weekday)
            case UInt8(ascii: "z"): tokens.append(.zoneOffset)
            case UInt8(ascii: "Z"): tokens.append(.zoneName)
            case UInt8(ascii: "s"): tokens.append(.epoch)
            case UInt8(ascii: "%"): tokens.append(.literal(0x25))
            case UInt8(ascii: "T"): tokens += [.hour24, .literal(0x3A), .minute, .literal(0x3A), .second]
            case UInt8(ascii: "F"): tokens += [.year4, .literal(0x2D), .month, .literal(0x2D), .day]
            case UInt8(ascii: "D"): tokens += [.month, .literal(0x2F), .day, .literal(0x2F), .year2]
            default: throw TimeFormatError("unknown directive %\(Character(Unicode.Scalar(d)))")
            }
        }
        let zone = tokens.contains(.zoneOffset) || tokens.contains(.zoneName) || tokens.contains(.epoch)
        let year = tokens.contains(.year4) || tokens.contains(.year2) || tokens.contains(.epoch)
        if tokens.contains(.hour12) != tokens.contains(.ampm) { throw TimeFormatError("%I and %p go together") }
        guard tokens.contains(.epoch) || (tokens.contains(.day) || tokens.contains(.spaceDay)) else {
            throw TimeFormatError("has no day (%d or %e) and no %s")
        }
        self.init(whole: nil, tokens: tokens, hasZone: zone, hasYear: year)
    }

    /// A civil time read from a value, before a zone and a year are applied.
    struct Parsed {
        var year: Int?
        var month = 1, day = 1, hour = 0, minute = 0, second = 0, millis = 0
        /// Seconds east of UTC, when the value names its zone.
        var offset: Int?
        var zoneName: UnsafeBufferPointer<UInt8>?
        /// Unix milliseconds, when the value is an epoch number (`%s` or an epoch form).
        var epochMillis: Int64?
    }

    /// A CLF value (`dd/Mon/yyyy:HH:MM:SS ±zzzz`, nginx's `$time_local`) as Unix milliseconds,
    /// for the formats that read CLF first, without building a `Parsed` (the per-line cost of
    /// `parse` then `TimeResolver.millis` for the commonest described time). Nil when this is not
    /// such a value or format; `parse` then judges it exactly as it always has, so the result of
    /// trying this first is the same.
    /// `cache` remembers the last minute read, so consecutive lines parse only their seconds
    /// (it gives `TimestampParser.parseCLF`'s answers).
    @inline(__always)
    func clfMillis(_ b: UnsafeBufferPointer<UInt8>, cache: inout CLFTimestampCache) -> Int64? {
        // A leap second (`:60`) is left to `parse`, as in its own CLF shortcut.
        guard readsCLF, b.count == 26, b[2] == 0x2F, b[18] != 0x36 else { return nil }
        return cache.parse(b)
    }

    func parse(_ b: UnsafeBufferPointer<UInt8>) -> Parsed? {
        if let whole {
            var parsed = Parsed()
            switch whole {
            case .epochSeconds, .epochMillis, .epochMicros, .epochNanos:
                guard let v = Self.decimal(b) else { return nil }
                let scale: Double = whole == .epochSeconds ? 1000 : whole == .epochMillis ? 1 : whole == .epochMicros ? 0.001 : 0.000_001
                let millis = v * scale
                guard millis.isFinite, abs(millis) < 1e15 else { return nil }
                parsed.epochMillis = Int64(millis.rounded(.down))
            case .iso8601:
                guard let m = TimestampParser.parseISO(b) else { return nil }
                parsed.epochMillis = m
            case .clf:
                guard let m = TimestampParser.parseCLF(b) else { return nil }
                parsed.epochMillis = m
            case .syslog:
                if let m = TimestampParser.parseISO(b) { parsed.epochMillis = m } else { return Self.rfc3164.parse(b) }
            case .auto:
                // `dd/` cannot start an ISO time or an epoch number: CLF (nginx's `$time_local`)
                // alone is tried, with the same result as trying all three in turn.
                if b.count == 26, b[2] == 0x2F {
                    guard let m = TimestampParser.parseCLF(b) else { return nil }
                    parsed.epochMillis = m
                    return parsed
                }
                guard let m = TimestampParser.parseISO(b) ?? TimestampParser.parseEpoch(b) ?? TimestampParser.parseCLF(b) else {
                    return nil
                }
                parsed.epochMillis = m
            }
            return parsed
        }
        // A leap second (`:60`) is left to the directives, which judge it as they always have.
        if clfDirectives, b.count == 26, b[18] != 0x36, let m = TimestampParser.parseCLF(b) {
            var parsed = Parsed()
            parsed.epochMillis = m
            return parsed
        }
        var p = Parsed()
        var i = 0
        let n = b.count
        var pm: Bool?
        func number(_ maxDigits: Int) -> Int? {
            var v = 0
            let start = i
            while i < n, i - start < maxDigits, b[i] &- 0x30 < 10 {
                v = v * 10 + Int(b[i] &- 0x30)
                i += 1
            }
            return i > start ? v : nil
        }
        let tokenPointer = storage.pointer
        for t in 0..<storage.count {
            switch tokenPointer[t] {
            case .literal(let c):
                guard i < n, b[i] == c else { return nil }
                i += 1
            case .space:
                let start = i
                while i < n, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
                guard i > start else { return nil }
            case .year4:
                guard let v = number(4) else { return nil }
                p.year = v
            case .year2:
                guard let v = number(2) else { return nil }
                p.year = v < 69 ? 2000 + v : 1900 + v
            case .month:
                guard let v = number(2) else { return nil }
                p.month = v
            case .monthName:
                guard i + 3 <= n, let m = Self.month(b[i], b[i + 1], b[i + 2]) else { return nil }
                p.month = m
                i += 3
                while i < n, (b[i] | 0x20) &- 0x61 < 26 { i += 1 }
            case .day:
                guard let v = number(2) else { return nil }
                p.day = v
            case .spaceDay:
                while i < n, b[i] == 0x20 { i += 1 }
                guard let v = number(2) else { return nil }
                p.day = v
            case .hour24, .hour12:
                guard let v = number(2) else { return nil }
                p.hour = v
            case .minute:
                guard let v = number(2) else { return nil }
                p.minute = v
            case .second:
                guard let v = number(2) else { return nil }
                p.second = v
            case .fraction:
                let start = i
                var scale = 100
                var millis = 0
                while i < n, b[i] &- 0x30 < 10 {
                    if scale > 0 {
                        millis += Int(b[i] &- 0x30) * scale
                        scale /= 10
                    }
                    i += 1
                }
                guard i > start else { return nil }
                p.millis = millis
            case .ampm:
                guard i + 2 <= n, (b[i + 1] | 0x20) == 0x6D else { return nil }
                switch b[i] | 0x20 {
                case 0x61: pm = false
                case 0x70: pm = true
                default: return nil
                }
                i += 2
            case .weekday:
                let start = i
                while i < n, (b[i] | 0x20) &- 0x61 < 26 { i += 1 }
                guard i > start else { return nil }
            case .zoneOffset:
                guard i < n else { return nil }
                if b[i] == 0x5A || b[i] == 0x7A {
                    p.offset = 0
                    i += 1
                    continue
                }
                guard b[i] == 0x2B || b[i] == 0x2D else { return nil }
                let negative = b[i] == 0x2D
                i += 1
                let hourStart = i
                guard let h = number(2), i - hourStart == 2 else { return nil }
                if i < n && b[i] == 0x3A { i += 1 }
                var m = 0
                let minuteStart = i
                if let v = number(2) {
                    guard i - minuteStart == 2 else { return nil }
                    m = v
                }
                guard h <= 23, m <= 59 else { return nil }
                p.offset = (h * 3600 + m * 60) * (negative ? -1 : 1)
            case .zoneName:
                let start = i
                while i < n, b[i] > 0x20 { i += 1 }
                guard i > start else { return nil }
                p.zoneName = UnsafeBufferPointer(rebasing: b[start..<i])
            case .epoch:
                let start = i
                while i < n, b[i] &- 0x30 < 10 { i += 1 }
                guard i > start, i - start <= 12 else { return nil }
                var v: Int64 = 0
                for k in start..<i { v = v * 10 + Int64(b[k] &- 0x30) }
                p.epochMillis = v * 1000
            case .percent:
                guard i < n, b[i] == 0x25 else { return nil }
                i += 1
            }
        }
        guard i == n else { return nil }
        if let pm {
            guard p.hour >= 1, p.hour <= 12 else { return nil }
            p.hour = p.hour % 12 + (pm ? 12 : 0)
        }
        if p.epochMillis != nil { p.epochMillis! += Int64(p.millis) }
        guard (1...12).contains(p.month), p.day >= 1, p.day <= 31, p.hour <= 23, p.minute <= 59, p.second <= 60 else { return nil }
        return p
    }

    private static func month(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Int? {
        switch (a | 0x20, b | 0x20, c | 0x20) {
        case (0x6A, 0x61, 0x6E): return 1
        case (0x66, 0x65, 0x62): return 2
        case (0x6D, 0x61, 0x72): return 3
        case (0x61, 0x70, 0x72): return 4
        case (0x6D, 0x61, 0x79): return 5
        case (0x6A, 0x75, 0x6E): return 6
        case (0x6A, 0x75, 0x6C): return 7
        case (0x61, 0x75, 0x67): return 8
        case (0x73, 0x65, 0x70): return 9
        case (0x6F, 0x63, 0x74): return 10
        case (0x6E, 0x6F, 0x76): return 11
        case (0x64, 0x65, 0x63): return 12
        default: return nil
        }
    }

    /// A plain decimal number (optional sign and fraction), for the epoch forms.
    private static func decimal(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        guard !b.isEmpty, b.count <= 32 else { return nil }
        var sawDigit = false
        var sawPoint = false
        for (k, c) in b.enumerated() {
            if c &- 0x30 < 10 {
                sawDigit = true
                continue
            }
            if c == 0x2E && !sawPoint {
                sawPoint = true
                continue
            }
            if c == 0x2D && k == 0 { continue }
            return nil
        }
        guard sawDigit else { return nil }
        return Double(String(decoding: b, as: UTF8.self))
    }
}

/// Why a `time_format` cannot be compiled.
struct TimeFormatError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Turns parsed civil times into Unix milliseconds: applies the zone (the value's own, else the
/// format's `timezone`) and the year (the value's own, else the `year` rule). Caches the zone
/// offset of the last hour seen, so that Foundation is asked about once per hour of log.
struct TimeResolver {
    private let zone: TimeZone?
    private let year: FormatDefinition.YearRule?
    /// For `year: file_mtime`: the file's modification time; nil when it is not known (no file,
    /// or a time of 0, which standard input's copy is given: taken as now, it dated every line
    /// of an old log piped in to this year).
    private let modified: Int64?
    private var cachedHour = Int64.min
    private var cachedOffset = 0
    private var namedZones: [[UInt8]: TimeZone?] = [:]

    init(zone: TimeZone?, year: FormatDefinition.YearRule?, path: String?) {
        self.zone = zone
        self.year = year
        if case .fileModified = year, let path {
            var info = stat()
            modified = stat(path, &info) == 0 && info.st_mtim.tv_sec > 0 ? Int64(info.st_mtim.tv_sec) * 1000 : nil
        } else {
            modified = nil
        }
    }

    /// Whether times without a year cannot be read: the year comes from a modification time
    /// that is not known.
    var lacksYear: Bool {
        if case .fileModified = year { return modified == nil }
        return false
    }

    mutating func millis(_ p: TimeFormat.Parsed) -> Int64? {
        if let epoch = p.epochMillis { return epoch }
        var offset = p.offset
        if offset == nil, let name = p.zoneName { offset = self.offset(named: name, p) }
        var civilYear = p.year
        var fromModification = false
        if civilYear == nil {
            switch year {
            case .fixed(let y): civilYear = y
            case .fileModified:
                guard let modified else { return nil }
                civilYear = CivilDay.civilFromDays(Int(floorDiv(modified, 86_400_000))).year
                fromModification = true
            case nil: return nil
            }
        }
        guard let y = civilYear, p.day <= CivilDay.daysIn(month: p.month, year: y) else { return nil }
        var local =
            Int64(CivilDay.daysFromCivil(year: y, month: p.month, day: p.day)) * 86_400
            + Int64(p.hour * 3600 + p.minute * 60 + min(p.second, 59))
        var result = try? resolve(local: local, offset: offset, p)
        // A time more than a day after the file was last written is from the year before
        // (a December line in a file written in January).
        if fromModification, let r = result, let modified, r > modified + 86_400_000,
            p.day <= CivilDay.daysIn(month: p.month, year: y - 1)
        {
            local =
                Int64(CivilDay.daysFromCivil(year: y - 1, month: p.month, day: p.day)) * 86_400
                + Int64(p.hour * 3600 + p.minute * 60 + min(p.second, 59))
            result = try? resolve(local: local, offset: offset, p)
        }
        return result ?? nil
    }

    private mutating func resolve(local: Int64, offset: Int?, _ p: TimeFormat.Parsed) throws -> Int64? {
        let seconds: Int64
        if let offset {
            seconds = local - Int64(offset)
        } else {
            guard let zone else { return nil }
            seconds = local - Int64(zoneOffset(zone, local: local))
        }
        return seconds * 1000 + Int64(p.millis)
    }

    /// The offset of `zone` at a local time, cached per hour.
    private mutating func zoneOffset(_ zone: TimeZone, local: Int64) -> Int {
        let hour = floorDiv(local, 3600)
        if hour == cachedHour { return cachedOffset }
        let first = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local)))
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local - Int64(first))))
        cachedHour = hour
        cachedOffset = offset
        return offset
    }

    private mutating func offset(named name: UnsafeBufferPointer<UInt8>, _ p: TimeFormat.Parsed) -> Int? {
        let key = Array(name)
        let zone: TimeZone?
        if let known = namedZones[key] {
            zone = known
        } else {
            let text = String(decoding: name, as: UTF8.self)
            zone =
                ["UTC", "GMT", "Z", "UT"].contains(text)
                ? TimeZone(secondsFromGMT: 0)
                : TimeZone(identifier: text) ?? TimeZone(abbreviation: text)
            if namedZones.count < 64 { namedZones[key] = zone }
        }
        guard let zone else { return nil }
        let local = Int64(CivilDay.daysFromCivil(year: p.year ?? 2000, month: p.month, day: min(p.day, 28))) * 86_400
        let first = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local)))
        return zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local - Int64(first))))
    }
}

@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
