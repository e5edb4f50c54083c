import CustodyCore

/// Benchmark logs with real entropy, unlike `ActivityGenerator`'s sequence-derived values:
/// random 64-bit session ids, random IPv4 addresses, a user population drawn with a heavy head
/// (user rank `⌊N·u²⌋` for uniform `u`: a few users very active, most seen a few times, nearly
/// all of `users` seen in a 2M-line file), seven fields, ~150 bytes a JSON line.
///
/// Each user's first event in a file is a phone verification, except for one user in a hundred
/// whose first event is a post (a real-name violation); times rise through the file.
public struct EntropyLogGenerator: Sendable {
    public var users: Int
    public var lines: Int
    public var days: Int
    public var seed: UInt64
    public var format: LogLineRenderer.Format

    public init(users: Int, lines: Int, days: Int = 60, seed: UInt64, format: LogLineRenderer.Format = .jsonl) {
        self.users = users
        self.lines = lines
        self.days = days
        self.seed = seed
        self.format = format
    }

    /// The events a user does after their first, and how often (out of 100).
    static let mix: [(event: String, weight: Int)] = [
        ("view", 52), ("search", 10), ("login", 8), ("post", 9), ("comment", 8), ("message", 6),
        ("upload", 2), ("live_start", 1), ("verify_id", 2), ("register", 2),
    ]

    /// Calls `body` with each line (without its newline), in order.
    public func forEachLine(_ body: (String) throws -> Void) rethrows {
        var rng = SplitMix64(seed: seed)
        let renderer = LogLineRenderer(format: format)
        var seen = [Bool](repeating: false, count: users)
        let table = Self.mix.flatMap { Array(repeating: $0.event, count: $0.weight) }
        let start = Int64(CivilDay(year: 2026, month: 9, day: 20)!.daysSinceEpoch) * 86_400_000
        let step = Int64(days) * 86_400_000 / Int64(max(1, lines))
        let devices = ["android", "ios", "web", "harmonyos"]
        for i in 0..<lines {
            let u = Double(rng.next() >> 11) / Double(1 << 53)
            let rank = min(users - 1, Int(Double(users) * u * u))
            // Ranks scattered over the id space, so that activity does not follow the id order.
            let user = (rank &* 40_503 &+ 17) % users
            let event: String
            if !seen[user] {
                seen[user] = true
                event = user % 100 == 37 ? "post" : "verify_phone"
            } else {
                event = table[Int(rng.next() % UInt64(table.count))]
            }
            let millis = start + Int64(i) * step + Int64(rng.next() % UInt64(max(1, step)))
            let ipWord = rng.next()
            let ip = "\(1 + ipWord % 223).\(ipWord >> 8 & 255).\(ipWord >> 16 & 255).\(1 + (ipWord >> 24) % 254)"
            let session = hex16(rng.next())
            let device = devices[Int(rng.next() % 4)]
            let version = "\(3 + rng.next() % 3).\(rng.next() % 20).\(rng.next() % 10)"
            let name = "u\(String(user &* 2_654_435_761 % 4_294_967_291, radix: 36))"
            switch format {
            case .jsonl:
                try body(
                    "{\"ts\":\"\(renderer.iso(millis))\",\"user\":\"\(name)\",\"event\":\"\(event)\",\"ip\":\"\(ip)\",\"session\":\"\(session)\",\"device\":\"\(device)\",\"app_version\":\"\(version)\"}"
                )
            case .logfmt:
                try body(
                    "ts=\(renderer.iso(millis)) user=\(name) event=\(event) ip=\(ip) session=\(session) device=\(device) app_version=\(version)"
                )
            case .combined:
                let r = LogLineRenderer.request(for: event)
                try body(
                    "\(ip) - \(name) [\(renderer.clf(millis))] \"\(r.method) \(r.path) HTTP/1.1\" \(r.status) \(200 + rng.next() % 30_000) \"-\" \"CustodyApp/\(version) (\(device); s=\(session))\""
                )
            }
        }
    }

    private func hex16(_ value: UInt64) -> String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
