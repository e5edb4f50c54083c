import CustodyCore

/// Writes activity events as log lines in each supported format, in the app's local time.
public struct LogLineRenderer: Sendable {
    public enum Format: String, Sendable, CaseIterable { case jsonl, combined, logfmt }

    public var format: Format
    public var utcOffsetSeconds: Int

    public init(format: Format, utcOffsetSeconds: Int = 8 * 3600) {
        self.format = format
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    /// The HTTP request an app would log for an event; mirrors the shipped policy's http_events.
    public static func request(for event: String) -> (method: String, path: String, status: Int) {
        switch event {
        case "register": return ("POST", "/api/register", 201)
        case "verify_phone": return ("POST", "/api/verify/phone", 200)
        case "verify_id": return ("POST", "/api/verify/id", 200)
        case "post": return ("POST", "/api/posts", 201)
        case "comment": return ("POST", "/api/comments/7", 201)
        case "message": return ("POST", "/api/messages", 201)
        case "upload": return ("POST", "/api/uploads", 201)
        case "live_start": return ("POST", "/api/live/start", 200)
        case "search": return ("GET", "/api/search?q=weather", 200)
        case "login": return ("POST", "/api/session", 200)
        default: return ("GET", "/api/feed", 200)
        }
    }

    public func line(_ e: ActivityEvent, sequence: Int) -> String {
        let ip = "10.\(sequence % 7).\(sequence % 251).\(sequence % 241 + 1)"
        switch format {
        case .jsonl:
            let user = e.user.map { "\"user\":\"\($0)\"," } ?? ""
            return
                "{\"ts\":\"\(iso(e.millis))\",\(user)\"event\":\"\(e.event)\",\"ip\":\"\(ip)\",\"device\":\"\(sequence % 3 == 0 ? "ios" : "android")\",\"app_version\":\"3.\(sequence % 9).1\",\"session\":\"s\(sequence % 100_003)\"}"
        case .logfmt:
            let user = e.user.map { " user=\($0)" } ?? ""
            return "ts=\(iso(e.millis))\(user) event=\(e.event) ip=\(ip) msg=\"\(e.event) handled\" latency_ms=\(sequence % 97)"
        case .combined:
            let r = Self.request(for: e.event)
            return
                "\(ip) - \(e.user ?? "-") [\(clf(e.millis))] \"\(r.method) \(r.path) HTTP/1.1\" \(r.status) \(200 + sequence % 3000) \"-\" \"CustodyApp/3.2 (Android 14)\""
        }
    }

    /// `2026-09-10T08:00:00.123+08:00`
    public func iso(_ millis: Int64) -> String {
        let local = millis + Int64(utcOffsetSeconds) * 1000
        let (day, ms) = (local.floorDiv(86_400_000), local - local.floorDiv(86_400_000) * 86_400_000)
        let secs = Int(ms / 1000)
        let civil = CivilDay(daysSinceEpoch: Int32(day))
        return "\(civil)T\(pad(secs / 3600)):\(pad(secs / 60 % 60)):\(pad(secs % 60)).\(pad(Int(ms % 1000), 3))\(zone())"
    }

    /// `10/Sep/2026:08:00:00 +0800`
    public func clf(_ millis: Int64) -> String {
        let local = millis + Int64(utcOffsetSeconds) * 1000
        let day = local.floorDiv(86_400_000)
        let secs = Int((local - day * 86_400_000) / 1000)
        let (y, m, d) = CivilDay(daysSinceEpoch: Int32(day)).components
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let z = zone().replacingOccurrences(of: ":", with: "")
        return "\(pad(d))/\(months[m - 1])/\(y):\(pad(secs / 3600)):\(pad(secs / 60 % 60)):\(pad(secs % 60)) \(z)"
    }

    private func zone() -> String {
        let sign = utcOffsetSeconds < 0 ? "-" : "+"
        let a = abs(utcOffsetSeconds)
        return "\(sign)\(pad(a / 3600)):\(pad(a / 60 % 60))"
    }

    private func pad(_ v: Int, _ width: Int = 2) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}

private extension String {
    func replacingOccurrences(of a: String, with b: String) -> String {
        split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
