import CustodyCore
import CustodyTesting
import Testing

@testable import CustodyIngest

/// The combined and logfmt parsers hand over each record's user and event with their first
/// eight bytes already loaded (`ParsedLine.userPrefix`, `eventPrefix`), read in one load where
/// that is safe; they must equal the bytes themselves, whatever the lengths and positions. And
/// HTTP methods compared as one word still follow the rules: any case, up to eight bytes and
/// beyond.
@Suite("Record prefixes and HTTP methods")
struct ParsedLinePrefixTests {
    let policy = try! loadPolicy()

    /// Parses `lines` with one parser and checks every record's prefixes; returns the records.
    func checkPrefixes(_ lines: [String], format: LogFormat, policy: Policy) -> Int {
        var parser = LineParser(policy: policy, format: format)
        defer { parser.deallocate() }
        var records = 0
        for line in lines {
            // The line alone in its buffer, so that a value at its very end has nothing after it.
            let bytes = Array(line.utf8)
            bytes.withUnsafeBufferPointer { buffer in
                if case .record(let r) = parser.parse(buffer) {
                    records += 1
                    #expect(r.userPrefix == (r.user.map(KeyHash.prefixWord) ?? 0), "\(line)")
                    #expect(r.eventPrefix == (r.event.map(KeyHash.prefixWord) ?? 0), "\(line)")
                }
            }
        }
        return records
    }

    func name(_ random: inout SplitMix64, _ lengths: ClosedRange<Int>) -> String {
        let letters = Array("abcdefgxyz0123456789_")
        return String((0..<Int.random(in: lengths, using: &random)).map { _ in letters[Int(random.next() % 21)] })
    }

    @Test func combinedPrefixesAreTheBytes() {
        var random = SplitMix64(seed: 15)
        let requests = [
            "POST /api/posts HTTP/1.1", "GET /api/feed HTTP/1.1", "POST /api/verify/phone HTTP/1.1", "post /api/comments/9 HTTP/2.0",
            "POST /api/%70osts HTTP/1.1", "DELETE /api/posts/1 HTTP/1.1",
        ]
        let lines = (0..<2_000).map { i in
            let user = i % 5 == 0 ? "-" : name(&random, 1...20)
            let second = i / 40 % 60
            return
                #"10.0.\#(i % 256).1 - \#(user) [10/Oct/2026:13:\#(10 + i / 2400):\#(second < 10 ? "0" : "")\#(second) +0800] "\#(requests[i % requests.count])" 200 5"#
        }
        #expect(checkPrefixes(lines, format: .combined, policy: policy) == 2_000)
    }

    @Test func logfmtPrefixesAreTheBytes() {
        var random = SplitMix64(seed: 16)
        var lines: [String] = []
        for i in 0..<2_000 {
            let user = name(&random, 0...20)
            let event = name(&random, 1...14)
            switch i % 4 {
            case 0: lines.append("ts=2026-10-10T13:55:\(10 + i % 50)+08:00 user=\(user) event=\(event)")
            case 1: lines.append("event=\(event) ts=2026-10-10T13:55:\(10 + i % 50)Z user=\"\(user)\"")
            case 2: lines.append("user=\"a\\\"\(user)\" ts=2026-10-10T13:5\(i % 10):00.5+08:00 event=\"\(event)\\n\"")
            default: lines.append("ts=1791640000 user=\(user) event=\(event) msg=\"x\"")
            }
        }
        #expect(checkPrefixes(lines, format: .logfmt, policy: policy) == 2_000)
    }

    @Test func methodsInAnyCaseAndOfAnyLength() throws {
        let custom = try loadPolicy(
            """
            id: p
            jurisdiction: CN
            timezone: UTC
            retention: { minimum_days: 1 }
            http_events:
              - { method: PROPPATCH, path_prefix: /dav, event: dav_patch }
              - { method: m-search, path_prefix: /upnp, event: ssdp }
              - { method: POST, path_prefix: /api/posts, event: post }
            """)
        func event(_ request: String) -> String? {
            parseLine(
                #"203.0.113.9 - bob [10/Oct/2026:13:55:36 +0800] "\#(request)" 200 1"#, format: .combined, policy: custom
            ).event
        }
        #expect(event("PROPPATCH /dav/a HTTP/1.1") == "dav_patch")
        #expect(event("proppatch /dav/a HTTP/1.1") == "dav_patch")
        #expect(event("PROPPATCHX /dav/a HTTP/1.1") == "http_request")
        #expect(event("PROPPATC /dav/a HTTP/1.1") == "http_request")
        #expect(event("M-SEARCH /upnp/x HTTP/1.1") == "ssdp")
        #expect(event("m-Search /upnp HTTP/1.1") == "ssdp")
        #expect(event("POST /api/posts HTTP/1.1") == "post")
        #expect(event("PoSt /api/posts/1 HTTP/1.1") == "post")
        #expect(event("POSTS /api/posts HTTP/1.1") == "http_request")
        #expect(event("GET /api/posts HTTP/1.1") == "http_request")
    }
}
