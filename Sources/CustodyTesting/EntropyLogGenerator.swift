import CustodyCore

/// Benchmark logs with real entropy, unlike `ActivityGenerator`'s sequence-derived values:
/// random 64-bit session ids, random IPv4 addresses, a user population drawn with a heavy head
/// (user rank `⌊N·u²⌋` for uniform `u`: a few users very active, most seen a few times, nearly
/// all of `users` seen in a 2M-line file), seven fields, ~150 bytes a JSON line.
///
/// Each user's first event in a file is a phone verification, except for one user in a hundred
/// (`violatingPercent`) whose first event is a post (a real-name violation); times rise through
/// the file.
public struct EntropyLogGenerator: Sendable {
    public var users: Int
    public var lines: Int
    public var days: Int
    public var seed: UInt64
    public var format: LogLineRenderer.Format
    /// JSON lines as several apps behind one gateway would write them, not all alike (see
    /// `variedLine`); only for `.jsonl`.
    public var varied: Bool
    /// Users in a hundred whose first event is a post, not a verification (0...100).
    public var violatingPercent: Int

    public init(
        users: Int, lines: Int, days: Int = 60, seed: UInt64, format: LogLineRenderer.Format = .jsonl, varied: Bool = false,
        violatingPercent: Int = 1
    ) {
        self.users = users
        self.lines = lines
        self.days = days
        self.seed = seed
        self.format = format
        self.varied = varied
        self.violatingPercent = violatingPercent
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
                // With one in a hundred, the users whose id ends in 37 (as before the percentage).
                event = (user % 100 + 63) % 100 < violatingPercent ? "post" : "verify_phone"
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
            case .jsonl where varied:
                let fields = VariedFields(
                    ts: renderer.iso(millis), user: Self.variedName(user, name), event: event, ip: ip, session: session, device: device,
                    version: version)
                try body(Self.variedLine(fields, &rng))
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

    /// One line's values, for `variedLine`.
    struct VariedFields {
        var ts, user, event, ip, session, device, version: String
    }

    /// Half of the users have a UUID-like id (36 bytes), the others the short one: the same
    /// form for a user on every line.
    static func variedName(_ user: Int, _ short: String) -> String {
        guard user % 2 == 0 else { return short }
        var h = UInt64(truncatingIfNeeded: user) &* 0x9E37_79B9_7F4A_7C15
        var hex = ""
        for _ in 0..<2 {
            h = (h ^ (h >> 31)) &* 0xBF58_476D_1CE4_E5B9
            let s = String(h, radix: 16)
            hex += String(repeating: "0", count: 16 - s.count) + s
        }
        let c = Array(hex)
        return "\(String(c[0..<8]))-\(String(c[8..<12]))-\(String(c[12..<16]))-\(String(c[16..<20]))-\(String(c[20..<32]))"
    }

    /// A JSON line in one of four shapes, picked per line: compact with keys in one order;
    /// Python's `json.dumps` default (blanks after colons and commas) with a nested object;
    /// keys in a new order on every line, sometimes with a message holding escapes; other key
    /// names (`@timestamp`, `user_id`, `action`) with an array and a fraction.
    static func variedLine(_ f: VariedFields, _ rng: inout SplitMix64) -> String {
        func quoted(_ s: String) -> String { "\"\(s)\"" }
        switch rng.next() % 4 {
        case 0:
            return
                "{\"ts\":\(quoted(f.ts)),\"user\":\(quoted(f.user)),\"event\":\(quoted(f.event)),\"ip\":\(quoted(f.ip)),\"session\":\(quoted(f.session)),\"status\":200}"
        case 1:
            return
                "{\"ts\": \(quoted(f.ts)), \"user\": \(quoted(f.user)), \"event\": \(quoted(f.event)), \"client\": {\"ip\": \(quoted(f.ip)), \"device\": \(quoted(f.device)), \"app_version\": \(quoted(f.version))}, \"session\": \(quoted(f.session))}"
        case 2:
            var members = [
                "\"ts\":\(quoted(f.ts))", "\"user\":\(quoted(f.user))", "\"event\":\(quoted(f.event))", "\"ip\":\(quoted(f.ip))",
                "\"session\":\(quoted(f.session))", "\"device\":\(quoted(f.device))",
            ]
            if rng.next() % 4 == 0 { members.append(#""msg":"said \"hi\" to C:\\Users\u00e9""#) }
            members.shuffle(using: &rng)
            return "{" + members.joined(separator: ",") + "}"
        default:
            let latency = Double(rng.next() % 100_000) / 100
            return
                "{\"@timestamp\":\(quoted(f.ts)),\"user_id\":\(quoted(f.user)),\"action\":\(quoted(f.event)),\"tags\":[\(quoted(f.device)),\(quoted(f.version))],\"latency_ms\":\(latency),\"ip\":\(quoted(f.ip))}"
        }
    }

    private func hex16(_ value: UInt64) -> String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
