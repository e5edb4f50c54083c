import CustodyCore
import CustodyIngest
import Testing

/// A line means one thing: keys as JSON means them, no field given twice, request targets as a
/// server routes them.
@Suite("Records mean exactly one thing")
struct RecordMeaningTests {
    let policy = try! loadPolicy()
    let t = ms("2026-10-10T05:55:36Z")

    @Test func escapedJSONKeysAreTheKeysTheyMean() {
        let parsed = parseLine(#"{"ts":"2026-10-10T05:55:36Z","\u0075ser":"alice","\u0065vent":"post"}"#, format: .jsonl, policy: policy)
        #expect(parsed == .record(millis: t, user: "alice", event: "post"))
        let timestamp = parseLine(#"{"t\u0073":"2026-10-10T05:55:36Z","user":"bob"}"#, format: .jsonl, policy: policy)
        #expect(timestamp == .record(millis: t, user: "bob", event: nil))
    }

    @Test(arguments: [
        #"{"ts":"2026-10-10T05:55:36Z","user":"a","event":"verify_phone","event":"post"}"#,
        #"{"ts":"2026-10-10T05:55:36Z","user":"a","event":"post","\u0065vent":"verify_phone"}"#,
        #"{"ts":"2026-10-10T05:55:36Z","user":"a","user":"b","event":"post"}"#,
        #"{"ts":"2026-10-10T05:55:36Z","ts":"2026-10-11T05:55:36Z","user":"a"}"#,
    ])
    func jsonFieldGivenTwiceIsAmbiguous(_ line: String) {
        #expect(parseLine(line, format: .jsonl, policy: policy) == .rejected(.ambiguousField))
    }

    /// The same line shape many times, so the key predictions are warm when the duplicate comes.
    @Test func duplicateIsCaughtWithWarmKeyPredictions() {
        let good = #"{"ts":"2026-10-10T05:55:36Z","user":"a","event":"verify_phone","x":1}"#
        let bad = #"{"ts":"2026-10-10T05:55:36Z","user":"a","event":"verify_phone","event":"post"}"#
        let results = parseLines(Array(repeating: good, count: 20) + [bad], format: .jsonl, policy: policy).results
        #expect(results.last == .rejected(.ambiguousField))
        #expect(results.dropLast().allSatisfy { $0 == .record(millis: t, user: "a", event: "verify_phone") })
    }

    @Test func differentNamesOfOneFieldStillRankAsThePolicySays() {
        // `event` and `action` are two names in the list, not one name twice: the first listed wins.
        #expect(
            parseLine(#"{"ts":"2026-10-10T05:55:36Z","user":"a","action":"x","event":"post"}"#, format: .jsonl, policy: policy).event
                == "post")
    }

    @Test(arguments: [
        "ts=2026-10-10T05:55:36Z user=a event=verify_phone event=post",
        "ts=2026-10-10T05:55:36Z user=a user=b event=post",
        "ts=2026-10-10T05:55:36Z ts=2026-10-11T05:55:36Z user=a",
    ])
    func logfmtFieldGivenTwiceIsAmbiguous(_ line: String) {
        #expect(parseLine(line, format: .logfmt, policy: policy) == .rejected(.ambiguousField))
    }

    @Test(arguments: [
        ("POST //api/posts HTTP/1.1", "post"),
        ("POST /api/%70osts HTTP/1.1", "post"),
        ("POST /%61pi/posts/%31 HTTP/1.1", "post"),
        ("post /api/posts HTTP/1.1", "post"),
        ("Post /api/comments HTTP/1.1", "comment"),
        ("POST http://example.com/api/posts HTTP/1.1", "post"),
        ("POST https://example.com:8443//api//posts?x=1 HTTP/1.1", "post"),
        ("POST /static/../api/posts HTTP/1.1", "post"),
        ("POST /./api/./posts HTTP/1.1", "post"),
        ("POST /api/posts/../../feed HTTP/1.1", "http_request"),
        ("POST /api%2Fposts HTTP/1.1", "http_request"),
        ("POST /api/post%73?a=%2F HTTP/1.1", "post"),
        ("GET //api/posts HTTP/1.1", "http_request"),
        ("POST /api/pos HTTP/1.1", "http_request"),
    ])
    func requestTargetsAreComparedAsRouted(_ request: String, _ event: String) {
        let line = #"203.0.113.9 - alice [10/Oct/2026:13:55:36 +0800] "\#(request)" 201 512 "-" "curl/8""#
        #expect(parseLine(line, format: .combined, policy: policy).event == event, "\(request)")
    }
}
