import CustodyCore
import CustodyIngest
import CustodyTesting
import Foundation
import Testing

/// A temporary directory, removed when the value goes away.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("custody-ingest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    var path: String { url.path }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let target = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: target)
        return target.path
    }

    /// Writes `lines` as gzip, starting a new member every `membersEvery` lines.
    @discardableResult
    func writeGzip(_ name: String, lines: [String], membersEvery: Int? = nil) throws -> String {
        let target = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let writer = try GzipWriter(path: target.path)
        for (i, line) in lines.enumerated() {
            if let every = membersEvery, i > 0, i % every == 0 { try writer.finishMember() }
            try writer.write(line + "\n")
        }
        try writer.close()
        return target.path
    }
}

/// The directory of the gzip vectors copied into this target.
func fixture(_ name: String) throws -> String {
    let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    return directory.appendingPathComponent(name).path
}

func fileBytes(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Everything a decoded source yields, read `chunk` bytes at a time.
struct Decoded {
    var bytes: [UInt8]
    var fault: ReadFault?
    var isCompressed: Bool
    var compressedBytesRead: Int
    var text: String { String(decoding: bytes, as: UTF8.self) }
}

func decode(_ path: String, chunk: Int = 64 * 1024) throws -> Decoded {
    let source = try DecodedSources.open(path: path)
    return drain(source, chunk: chunk)
}

/// `decode` through the given inflater; the gzip tests run against both.
func decode(_ inflater: GzipInflater, _ path: String, chunk: Int = 64 * 1024) throws -> Decoded {
    drain(try DecodedSources.open(path: path, inflater: inflater), chunk: chunk)
}

func drain(_ source: DecodedSource, chunk: Int = 64 * 1024) -> Decoded {
    var bytes: [UInt8] = []
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
    defer { buffer.deallocate() }
    while true {
        let n = source.read(into: buffer)
        if n == 0 { break }
        bytes += buffer[0..<n]
    }
    return Decoded(
        bytes: bytes, fault: source.fault, isCompressed: source.isCompressed,
        compressedBytesRead: source.compressedBytesRead)
}

/// A copy of one `LineReader` event, safe to keep after the callback returns.
enum LineEvent: Equatable, CustomStringConvertible {
    case line([UInt8], Int)
    case overlong(Int)
    case cutOff(Int)

    static func text(_ s: String, _ number: Int) -> LineEvent { .line(Array(s.utf8), number) }

    var description: String {
        switch self {
        case .line(let bytes, let n):
            return bytes.count > 60
                ? "line \(n): \(bytes.count) bytes" : "line \(n): \(String(decoding: bytes, as: UTF8.self).debugDescription)"
        case .overlong(let n): return "overlong \(n)"
        case .cutOff(let n): return "cutOff \(n)"
        }
    }
}

func lineEvents(_ path: String) throws -> (events: [LineEvent], fault: ReadFault?) {
    try lineEvents(.preferred, path)
}

func lineEvents(_ inflater: GzipInflater, _ path: String) throws -> (events: [LineEvent], fault: ReadFault?) {
    let source = try DecodedSources.open(path: path, inflater: inflater)
    var events: [LineEvent] = []
    let fault = LineReader.forEachLine(in: source) { event in
        switch event {
        case .line(let bytes, let number): events.append(.line(Array(bytes), number))
        case .overlong(let number): events.append(.overlong(number))
        case .cutOff(let number): events.append(.cutOff(number))
        }
    }
    return (events, fault)
}

/// The shipped policy (plus an unaccepted `verify_email` method), inline so tests do not depend
/// on the working directory.
let policyYAML = """
    id: cn-cac-2016-apps
    title: Provisions on the Administration of Mobile Internet Applications Information Services (2016)
    jurisdiction: CN
    timezone: Asia/Shanghai
    retention:
      minimum_days: 60
      maximum_days: 180
    real_name:
      registration_events: [register, signup]
      verification_events:
        verify_phone: phone
        verify_id: id_document
        verify_email: email
      accepted_methods: [phone, id_document]
      publish_events: [post, comment, message, upload, live_start]
    fields:
      timestamp: [ts, timestamp, time, "@timestamp"]
      user: [user, user_id, uid]
      event: [event, action, type]
    http_events:
      - { method: POST, path_prefix: /api/register, event: register }
      - { method: POST, path_prefix: /api/verify/phone, event: verify_phone }
      - { method: POST, path_prefix: /api/verify/id, event: verify_id }
      - { method: POST, path_prefix: /api/posts, event: post }
      - { method: POST, path_prefix: /api/comments, event: comment }
      - { method: POST, path_prefix: /api/messages, event: message }
      - { method: POST, path_prefix: /api/uploads, event: upload }
      - { method: POST, path_prefix: /api/live, event: live_start }
    """

func loadPolicy(_ text: String = policyYAML) throws -> Policy {
    try PolicyLoader.parse(text, file: "test-policy.yaml")
}

/// A parse outcome copied out of the parser's buffers.
enum Parsed: Equatable, CustomStringConvertible {
    case record(millis: Int64, user: String?, event: String?)
    case rejected(Rejection)
    case skipped

    var description: String {
        switch self {
        case let .record(millis, user, event):
            return "record(\(TimestampParser.formatUTC(millis)), user: \(user.debugDescription), event: \(event.debugDescription))"
        case .rejected(let r): return "rejected(\(r))"
        case .skipped: return "skipped"
        }
    }

    var user: String? {
        if case .record(_, let user, _) = self { return user }
        return nil
    }
    var event: String? {
        if case .record(_, _, let event) = self { return event }
        return nil
    }
    var millis: Int64? {
        if case .record(let millis, _, _) = self { return millis }
        return nil
    }
}

/// Parses lines one after another with one parser (so sniffing carries over), copying results.
func parseLines(_ lines: [String], format: LogFormat, policy: Policy) -> (results: [Parsed], format: LogFormat) {
    var parser = LineParser(policy: policy, format: format)
    defer { parser.deallocate() }
    var results: [Parsed] = []
    for line in lines {
        let bytes = Array(line.utf8)
        let outcome = bytes.withUnsafeBufferPointer { parser.parse($0) }
        switch outcome {
        case .record(let r):
            results.append(
                .record(
                    millis: r.millis, user: r.user.map { String(decoding: $0, as: UTF8.self) },
                    event: r.event.map { String(decoding: $0, as: UTF8.self) }))
        case .rejected(let rejection):
            results.append(.rejected(rejection))
        case .skipped:
            results.append(.skipped)
        }
    }
    return (results, parser.format)
}

func parseLine(_ line: String, format: LogFormat, policy: Policy) -> Parsed {
    parseLines([line], format: format, policy: policy).results[0]
}

func ms(_ text: String) -> Int64 { TimestampParser.parse(text)! }

/// Deterministic pseudo-random bytes (poorly compressible), as lowercase hex lines.
func randomHexLines(count: Int, seed: UInt64, length: ClosedRange<Int> = 20...200) -> [String] {
    var rng = SplitMix64(seed: seed)
    let digits = Array("0123456789abcdef")
    return (0..<count).map { _ in
        String((0..<Int.random(in: length, using: &rng)).map { _ in digits[Int(rng.next() & 15)] })
    }
}

// MARK: generated logs for whole-check tests

/// One log file of a generated set: its name, line format and compression.
struct LogFileSpec: Sendable {
    var name: String
    var format: LogLineRenderer.Format
    var gzip = false
    /// For gzip: a new member every this many lines.
    var membersEvery: Int?
}

/// Writes `events` (assigned to files by `assign`) as log files, lines in time order or shuffled.
func writeLogs(
    _ events: [ActivityEvent], files: [LogFileSpec], in dir: TemporaryDirectory,
    assign: (Int, ActivityEvent) -> Int, shuffleSeed: UInt64? = nil
) throws {
    var perFile = Array(repeating: [ActivityEvent](), count: files.count)
    for (i, e) in events.enumerated() { perFile[assign(i, e)].append(e) }
    for (spec, events) in zip(files, perFile) {
        let renderer = LogLineRenderer(format: spec.format)
        var lines = events.enumerated().map { renderer.line($0.element, sequence: $0.offset) }
        if let seed = shuffleSeed {
            var rng = SplitMix64(seed: seed &+ UInt64(spec.name.utf8.count))
            lines.shuffle(using: &rng)
        }
        if spec.gzip {
            try dir.writeGzip(spec.name, lines: lines, membersEvery: spec.membersEvery)
        } else {
            try dir.write(spec.name, lines.map { $0 + "\n" }.joined())
        }
    }
}

/// A mix of every format and encoding, as an app's log directory might hold.
let mixedLogFiles: [LogFileSpec] = [
    LogFileSpec(name: "app/a.jsonl", format: .jsonl),
    LogFileSpec(name: "app/b.jsonl.gz", format: .jsonl, gzip: true),
    LogFileSpec(name: "app/c.jsonl.gz", format: .jsonl, gzip: true, membersEvery: 97),
    LogFileSpec(name: "nginx/access.log", format: .combined),
    LogFileSpec(name: "nginx/access.log.1.gz", format: .combined, gzip: true, membersEvery: 500),
    LogFileSpec(name: "worker/w.logfmt", format: .logfmt),
    LogFileSpec(name: "worker/w.logfmt.gz", format: .logfmt, gzip: true),
]

func runCheck(
    _ paths: [String], policy: Policy, asOf: CivilDay, since: CivilDay? = nil,
    parallelism: Int
) async throws -> CheckReport {
    try await CheckRunner.run(CheckRequest(paths: paths, policy: policy, asOf: asOf, since: since, parallelism: parallelism))
}

/// A JSON value with the named object keys removed at every depth.
func stripping(_ keys: Set<String>, from value: JSONValue) -> JSONValue {
    switch value {
    case .array(let items): return .array(items.map { stripping(keys, from: $0) })
    case .object(let pairs): return .object(pairs.filter { !keys.contains($0.0) }.map { ($0.0, stripping(keys, from: $0.1)) })
    default: return value
    }
}

/// The member `key` of a JSON object.
func member(_ value: JSONValue, _ key: String) -> JSONValue? {
    guard case .object(let pairs) = value else { return nil }
    return pairs.first { $0.0 == key }?.1
}

/// The test policy with another retention minimum.
func loadPolicy(minimumDays: Int) throws -> Policy {
    try loadPolicy(policyYAML.replacingOccurrences(of: "  minimum_days: 60", with: "  minimum_days: \(minimumDays)"))
}
