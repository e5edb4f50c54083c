import CustodyCore
import Foundation

/// Splits syslog lines into fields: RFC 5424 (`<165>1 2026-11-01T10:00:00.000+08:00 host app
/// 1234 ID47 [sd] message`), RFC 3164 (`<34>Oct 11 22:14:15 host su[12]: message`, the
/// `<PRI>` optional as in files written by syslog daemons), and RFC 3164 with an RFC 3339 time
/// (`2026-11-01T10:00:00.123456+08:00 host sshd[12]: message`: rsyslog's file format, the
/// default of Debian 12 and Ubuntu 24.04). `-` (nil in RFC 5424) is absent.
enum SyslogLayout {
    static let names = ["pri", "timestamp", "host", "app", "pid", "msgid", "structured_data", "message"]
    static let timestamp = 1, host = 2, app = 3, pid = 4, msgid = 5, structuredData = 6, message = 7

    /// The shape of either form, for sniffing.
    static func looksLikeSyslog(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = line.baseAddress else { return false }
        let n = line.count
        var i = 0
        if n > 0, p[0] == 0x3C {
            guard let close = priorityEnd(p, n) else { return false }
            i = close + 1
            if i + 1 < n, p[i] == 0x31, p[i + 1] == 0x20 { return true }  // RFC 5424 version 1
        }
        if isRFC3164Time(p + i, n - i) { return true }
        // An RFC 3339 time is only taken with the rest of the traditional shape (a host, then
        // `tag:` or `tag[pid]:`): lines of logfmt or plain text may start with such a time too.
        guard let end = isoTimeEnd(p + i, n - i) else { return false }
        return hasHostAndTag(p, n, from: i + end + 1)
    }

    /// The length of an RFC 3339 time with a zone at `p`, followed by a space, or nil.
    static func isoTimeEnd(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int? {
        guard n >= 21, p[0] &- 0x30 < 10, p[4] == 0x2D, p[10] == 0x54 || p[10] == 0x74 else { return nil }
        var e = 10
        while e < min(n, 40), p[e] != 0x20 { e += 1 }
        guard e < n, TimestampParser.parseISO(UnsafeBufferPointer(start: p, count: e)) != nil else { return nil }
        return e
    }

    /// `host tag: ` or `host tag[pid]: ` at `p[i...]`: a host without `=`, and a tag of
    /// letters, digits and `_.-/()@`.
    private static func hasHostAndTag(_ p: UnsafePointer<UInt8>, _ n: Int, from start: Int) -> Bool {
        var i = start
        while i < n, p[i] != 0x20 {
            if p[i] == 0x3D { return false }
            i += 1
        }
        guard i > start, i < n else { return false }
        i += 1
        let tag = i
        while i < n, (p[i] | 0x20) &- 0x61 < 26 || p[i] &- 0x30 < 10 || [0x5F, 0x2E, 0x2D, 0x2F, 0x28, 0x29, 0x40].contains(p[i]) {
            i += 1
        }
        guard i > tag, i < n else { return false }
        if p[i] == 0x5B {
            i += 1
            let pid = i
            while i < n, p[i] &- 0x30 < 10 { i += 1 }
            guard i > pid, i < n, p[i] == 0x5D else { return false }
            i += 1
        }
        return i + 1 < n && p[i] == 0x3A && p[i + 1] == 0x20
    }

    /// The index of the `>` closing a line's `<PRI>` (at `p[0]`): one to three digits without a
    /// leading zero, at most 191 (facility 23, severity 7; RFC 5424 §6.2.1), or nil. Only
    /// version 1 of RFC 5424 exists: another version's line is no syslog line either.
    static func priorityEnd(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int? {
        var i = 1
        var value = 0
        while i < n, i < 4, p[i] &- 0x30 < 10 {
            value = value * 10 + Int(p[i] &- 0x30)
            i += 1
        }
        guard i > 1, i < n, p[i] == 0x3E, value <= 191, !(i > 2 && p[1] == 0x30) else { return nil }
        return i
    }

    /// `Mmm dd HH:MM:SS ` at `p`.
    static func isRFC3164Time(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        guard n >= 16, p[3] == 0x20, p[6] == 0x20, p[9] == 0x3A, p[12] == 0x3A, p[15] == 0x20,
            (p[0] | 0x20) &- 0x61 < 26, (p[1] | 0x20) &- 0x61 < 26, (p[2] | 0x20) &- 0x61 < 26,
            p[5] &- 0x30 < 10, p[7] &- 0x30 < 10, p[8] &- 0x30 < 10
        else { return false }
        return true
    }

    static func split(_ p: UnsafePointer<UInt8>, _ n: Int, _ r: FieldResolver) -> Bool {
        r.clear()
        func set(_ slot: Int, _ s: Int, _ e: Int) {
            guard e > s, !(e - s == 1 && p[s] == 0x2D) else { return }
            r.bases[slot] = p
            r.starts[slot] = s
            r.ends[slot] = e
        }
        var i = 0
        if n > 0, p[0] == 0x3C {
            guard let close = priorityEnd(p, n) else { return false }
            set(0, 1, close)
            i = close + 1
            if i + 1 < n, p[i] == 0x31, p[i + 1] == 0x20 {
                return split5424(p, n, from: i + 2, set)
            }
        }
        if isRFC3164Time(p + i, n - i) {
            set(timestamp, i, i + 15)
            i += 16
        } else if let end = isoTimeEnd(p + i, n - i) {
            set(timestamp, i, i + end)
            i += end + 1
        } else {
            return false
        }
        var e = i
        while e < n, p[e] != 0x20 { e += 1 }
        set(host, i, e)
        i = min(e + 1, n)
        // TAG[PID]: or TAG: — else the rest is the message.
        var t = i
        while t < n, p[t] != 0x3A, p[t] != 0x5B, p[t] != 0x20 { t += 1 }
        if t < n, p[t] == 0x5B || p[t] == 0x3A {
            set(app, i, t)
            if p[t] == 0x5B {
                let pidStart = t + 1
                while t < n, p[t] != 0x5D { t += 1 }
                guard t < n else {
                    set(message, i, n)
                    return true
                }
                set(pid, pidStart, t)
                t += 1
            }
            if t < n, p[t] == 0x3A { t += 1 }
            if t < n, p[t] == 0x20 { t += 1 }
            set(message, t, n)
        } else {
            set(message, i, n)
        }
        return true
    }

    private static func split5424(_ p: UnsafePointer<UInt8>, _ n: Int, from start: Int, _ set: (Int, Int, Int) -> Void) -> Bool {
        var i = start
        for slot in [timestamp, host, app, pid, msgid] {
            var e = i
            while e < n, p[e] != 0x20 { e += 1 }
            guard e > i else { return false }
            set(slot, i, e)
            guard e < n else { return slot == msgid }
            i = e + 1
        }
        // Structured data: `-` or one or more `[...]` (quotes may hold `]`).
        if i < n, p[i] == 0x2D {
            i += 1
        } else {
            let sdStart = i
            while i < n, p[i] == 0x5B {
                var inQuotes = false
                i += 1
                while i < n {
                    let c = p[i]
                    if c == 0x5C {
                        i += 2
                        continue
                    }
                    if c == 0x22 { inQuotes.toggle() } else if c == 0x5D && !inQuotes { break }
                    i += 1
                }
                guard i < n else { return false }
                i += 1
            }
            guard i > sdStart else { return false }
            set(structuredData, sdStart, i)
        }
        if i < n, p[i] == 0x20 { i += 1 }
        // An RFC 5424 message may start with a UTF-8 byte-order mark.
        if i + 3 <= n, p[i] == 0xEF, p[i + 1] == 0xBB, p[i + 2] == 0xBF { i += 3 }
        set(message, i, n)
        return true
    }
}

/// CSV (RFC 4180 quoting, `""` inside quotes) and TSV rows; the first line is the header.
enum DelimitedLayout {
    /// Column names of a header line, or nil when it is not one (empty or duplicate names).
    static func header(_ line: UnsafeBufferPointer<UInt8>, separator: UInt8) -> [String]? {
        var names: [String] = []
        var ok = true
        let complete = forEachField(line, separator: separator) { s, e in
            var a = s
            var b = e
            if b - a >= 2, line[a] == 0x22, line[b - 1] == 0x22 {
                a += 1
                b -= 1
            }
            let name = String(decoding: UnsafeBufferPointer(rebasing: line[a..<b]), as: UTF8.self).trimmingCharacters(in: .whitespaces)
            if name.isEmpty || names.contains(name) { ok = false }
            names.append(name)
        }
        return ok && complete && names.count >= 2 ? names : nil
    }

    /// Calls `body` with each field's span (quotes included); nil when a quote is not closed.
    @discardableResult
    static func forEachField(_ line: UnsafeBufferPointer<UInt8>, separator: UInt8, _ body: (Int, Int) -> Void) -> Bool {
        let n = line.count
        var i = 0
        while true {
            let start = i
            if separator == 0x2C, i < n, line[i] == 0x22 {
                i += 1
                while true {
                    guard i < n else { return false }
                    if line[i] == 0x22 {
                        if i + 1 < n, line[i + 1] == 0x22 {
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    i += 1
                }
                guard i == n || line[i] == separator else { return false }
            } else {
                while i < n, line[i] != separator { i += 1 }
            }
            body(start, i)
            if i >= n { return true }
            i += 1
        }
    }

    static func split(_ line: UnsafeBufferPointer<UInt8>, separator: UInt8, _ r: FieldResolver) -> Bool {
        r.clear()
        var column = 0
        let columns = r.names.count
        let result = forEachField(line, separator: separator) { s, e in
            if column < columns {
                r.bases[column] = line.baseAddress!
                r.starts[column] = s
                r.ends[column] = e
            }
            column += 1
        }
        return result && column == columns
    }
}

/// Container runtimes' wrappers around the app's line.
enum ContainerLayout {
    /// CRI (Kubernetes): `2026-11-01T10:00:00.123456789+08:00 stdout F message`: the time, the
    /// message, whether the line is complete (`F`) or a part continued by the stream's next line
    /// (`P`), and whether the stream is stderr.
    static func cri(
        _ line: UnsafeBufferPointer<UInt8>
    ) -> (millis: Int64, partial: Bool, message: UnsafeBufferPointer<UInt8>, stderr: Bool)? {
        let n = line.count
        guard n >= 20, let space = line.firstIndex(of: 0x20),
            let millis = TimestampParser.parseISO(UnsafeBufferPointer(rebasing: line[..<space]))
        else { return nil }
        var i = space + 1
        let streamStart = i
        while i < n, line[i] != 0x20 { i += 1 }
        let stream = UnsafeBufferPointer(rebasing: line[streamStart..<i])
        guard stream.elementsEqual("stdout".utf8) || stream.elementsEqual("stderr".utf8), i + 2 <= n else { return nil }
        i += 1
        let tagStart = i
        while i < n, line[i] != 0x20 { i += 1 }
        guard i > tagStart, line[tagStart] == 0x46 || line[tagStart] == 0x50 else { return nil }
        let partial = line[tagStart] == 0x50
        let message = i < n ? UnsafeBufferPointer(rebasing: line[(i + 1)...]) : UnsafeBufferPointer(rebasing: line[n...])
        return (millis, partial, message, stream[3] == 0x65)
    }

    /// Docker json-file: `{"log":"…\n","stream":"stdout","time":"…"}`: the time, the `log` text
    /// (decoded into `scratch`, its final newline removed), whether it had that newline (the
    /// parts Docker splits a line over 16 KiB into have none, but the last), and whether the
    /// stream is stderr.
    static func docker(
        _ line: UnsafeBufferPointer<UInt8>, scratch: UnsafeMutablePointer<UInt8>,
        keyScratch: UnsafeMutablePointer<UInt8>
    ) -> (millis: Int64, message: UnsafeBufferPointer<UInt8>, complete: Bool, stderr: Bool)? {
        guard let p = line.baseAddress else { return nil }
        var log: (Int, Int)?
        var time: (Int, Int)?
        var stderr = false
        var duplicate = false
        let valid = JSONScan.members(p, from: 0, line.count, keyScratch: keyScratch) { key, s, e in
            if key.elementsEqual("log".utf8) {
                if log != nil { duplicate = true }
                log = (s, e)
            }
            if key.elementsEqual("time".utf8) {
                if time != nil { duplicate = true }
                time = (s, e)
            }
            if key.elementsEqual("stream".utf8) {
                stderr = UnsafeBufferPointer(start: p + s, count: e - s).elementsEqual(#""stderr""#.utf8)
            }
            return true
        }
        guard valid, !duplicate, let log, let time, p[log.0] == 0x22, p[time.0] == 0x22,
            let millis = TimestampParser.parseISO(UnsafeBufferPointer(start: p + time.0 + 1, count: time.1 - time.0 - 2)),
            var text = JSONScan.text(p, log.0, log.1, scratch: scratch)
        else { return nil }
        let complete = text.last == 0x0A
        while let last = text.last, last == 0x0A || last == 0x0D { text = UnsafeBufferPointer(rebasing: text.dropLast()) }
        return (millis, text, complete, stderr)
    }
}
