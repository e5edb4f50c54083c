import CustodyCore
import CustodyIngest
import Foundation
import Testing

@Suite("Format sniffing")
struct FormatSniffingTests {
    let policy = try! loadPolicy()
    let json = #"{"ts":"2026-10-10T05:55:36Z","user":"a","event":"post"}"#
    let combined = #"10.0.0.1 - a [10/Oct/2026:13:55:36 +0800] "POST /api/posts HTTP/1.1" 201 5 "-" "ua""#
    let logfmt = "ts=2026-10-10T05:55:36Z user=a event=post"
    var record: Parsed { .record(millis: ms("2026-10-10T05:55:36Z"), user: "a", event: "post") }

    @Test func jsonLines() {
        let (results, format) = parseLines([json, json], format: .auto, policy: policy)
        #expect(format == .jsonl)
        #expect(results == [record, record])
    }

    @Test func jsonWithLeadingWhitespace() {
        let (results, format) = parseLines(["  \t" + json], format: .auto, policy: policy)
        #expect(format == .jsonl)
        #expect(results == [record])
    }

    @Test func combinedLines() {
        let (results, format) = parseLines([combined, combined], format: .auto, policy: policy)
        #expect(format == .combined)
        #expect(results == [record, record])
    }

    @Test func logfmtLines() {
        let (results, format) = parseLines([logfmt, logfmt], format: .auto, policy: policy)
        #expect(format == .logfmt)
        #expect(results == [record, record])
    }

    @Test(arguments: ["garbage without pairs", "GET /health 200", "###", "= = ="])
    func unrecognisedFirstLineThenGoodLines(bad: String) {
        for (good, expectedFormat) in [(json, LogFormat.jsonl), (combined, .combined), (logfmt, .logfmt)] {
            let (results, format) = parseLines([bad, good, good], format: .auto, policy: policy)
            #expect(results == [.rejected(.unrecognisedFormat), record, record], "\(expectedFormat)")
            #expect(format == expectedFormat)
        }
    }

    @Test func brokenFirstJSONLineStillSettlesOnJSON() {
        let (results, format) = parseLines([#"{"ts":"2026-10-10T05:55:36Z","user":"a","ev"#, json], format: .auto, policy: policy)
        #expect(format == .jsonl)
        #expect(results == [.rejected(.invalidJSON), record])
    }

    @Test func formatIsFixedOnceSniffed() {
        let (results, format) = parseLines([json, logfmt, combined, json], format: .auto, policy: policy)
        #expect(format == .jsonl)
        #expect(results == [record, .rejected(.notJSONObject), .rejected(.notJSONObject), record])
    }

    @Test func explicitFormatIsNotSniffed() {
        #expect(parseLines([json], format: .logfmt, policy: policy).results == [.rejected(.notLogfmt)])
        #expect(parseLines([logfmt], format: .combined, policy: policy).results == [.rejected(.notCombined)])
        #expect(parseLines([combined], format: .jsonl, policy: policy).results == [.rejected(.notJSONObject)])
    }

    @Test func blankLines() {
        func blank(_ s: String) -> Bool { Array(s.utf8).withUnsafeBufferPointer { LineParser.isBlank($0) } }
        #expect(blank(""))
        #expect(blank(" \t "))
        #expect(!blank(" x "))
    }

    /// A combined line whose timestamp is bad, with `=` in its query string, looks like logfmt:
    /// the file is then read as logfmt and every following (good) combined line is rejected.
    @Test
    func badCombinedFirstLineWithAQueryString() {
        let bad = #"10.0.0.1 - a [10/Okt/2026:13:55:36 +0800] "GET /api/search?q=x HTTP/1.1" 200 5 "-" "ua""#
        let (results, format) = parseLines([bad, combined, combined], format: .auto, policy: policy)
        #expect(results.dropFirst().allSatisfy { $0 == record })
        #expect(format == .combined)
    }
}
