import CustodyCore
import CustodyTesting
import Testing

@testable import CustodyIngest

/// The matcher's shortcuts (a target scanned sixteen bytes a step for what needs normalising,
/// methods and prefixes compared as words) give the answers of the plain definition: normalise
/// when a `%`, `//` or `/.` comes before the query, then the first rule whose method equals the
/// request's in any case and whose prefix starts the target.
@Suite("HTTPEventMatcher against its plain definition")
struct HTTPEventMatcherDifferentialTests {
    static func referenceNeedsNormalising(_ t: [UInt8]) -> Bool {
        guard let first = t.first, first == 0x2F else { return !t.isEmpty }
        var previous: UInt8 = 0
        for c in t {
            if c == 0x3F || c == 0x23 { return false }
            if c == 0x25 || (previous == 0x2F && (c == 0x2F || c == 0x2E)) { return true }
            previous = c
        }
        return false
    }

    @Test func targetsNeedingNormalisation() {
        var random = SplitMix64(seed: 8)
        let alphabet = Array("/.%?#abc".utf8)
        let marks = ["%", "//", "/.", "?", "#", "/a", ".", "?//", "#%"].map { Array($0.utf8) }
        for round in 0..<60_000 {
            var target: [UInt8]
            if round % 2 == 0 {
                // Anything at all, short or long.
                target = (0..<Int.random(in: 0...70, using: &random)).map { _ in alphabet[Int(random.next() % 8)] }
            } else {
                // A clean path (`/` always followed by a letter) with up to two marks put
                // anywhere, so that each lands on every offset within and across blocks.
                target = [0x2F] + (1..<Int.random(in: 1...70, using: &random)).map { k in k % 5 == 0 ? 0x2F : 0x61 }
                for _ in 0..<Int.random(in: 0...2, using: &random) {
                    let mark = marks[Int(random.next() % UInt64(marks.count))]
                    target.insert(contentsOf: mark, at: Int.random(in: 1...target.count, using: &random))
                }
            }
            if !target.isEmpty && random.next() % 4 != 0 { target[0] = 0x2F }
            let expected = Self.referenceNeedsNormalising(target)
            let got = target.withUnsafeBufferPointer { HTTPEventMatcher.needsNormalising($0) }
            #expect(got == expected, "\(String(decoding: target, as: UTF8.self))")
        }
    }

    @Test func rulesMatchAsDefined() {
        let rules = [
            HTTPEventRule(method: "POST", pathPrefix: "/api/verify/phone", event: "verify_phone"),
            HTTPEventRule(method: "post", pathPrefix: "/api/v", event: "v"),
            HTTPEventRule(method: "PUT", pathPrefix: "/a", event: "put_a"),
            HTTPEventRule(method: "PROPPATCH", pathPrefix: "/api", event: "dav"),
            HTTPEventRule(method: "GET", pathPrefix: "", event: "any_get"),
            HTTPEventRule(method: "DELETE", pathPrefix: "/api/verify/phone/x", event: "delete_long"),
        ]
        let matcher = HTTPEventMatcher(rules: rules)
        var random = SplitMix64(seed: 9)
        let methods = ["POST", "post", "PoSt", "PUT", "put", "PROPPATCH", "proppatch", "GET", "get", "DELETE", "POSTS", "PROPPATC"]
        let pieces = ["/api", "/verify", "/phone", "/x", "/v", "/a", "/", "%70", "?q", "//", "/.", "a"]
        for _ in 0..<20_000 {
            let method = methods[Int(random.next() % UInt64(methods.count))]
            let target = (0..<Int.random(in: 1...5, using: &random)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }
                .joined()
            let targetBytes = Array(target.utf8)
            let methodBytes = Array(method.utf8)
            let got = methodBytes.withUnsafeBufferPointer { m in
                targetBytes.withUnsafeBufferPointer { t in String(decoding: matcher.classify(method: m, target: t), as: UTF8.self) }
            }
            // The plain definition, on the normalised target.
            let normalised: [UInt8] =
                Self.referenceNeedsNormalising(targetBytes)
                ? targetBytes.withUnsafeBufferPointer { Array(matcher.normalise($0)) } : targetBytes
            let expected =
                rules.first { rule in
                    rule.method.uppercased() == method.uppercased() && normalised.starts(with: Array(rule.pathPrefix.utf8))
                }?.event ?? "http_request"
            #expect(got == expected, "\(method) \(target)")
        }
    }

    /// A method read from one eight-byte load (up to its first space, upper-cased by word
    /// arithmetic) is the method the byte loop finds and upper-cases, for every byte value at
    /// every position.
    @Test func methodWordFromOneLoad() {
        var random = SplitMix64(seed: 10)
        let special: [UInt8] = [0x20, 0x60, 0x61, 0x7A, 0x7B, 0x40, 0x41, 0x5A, 0x5B, 0x00, 0x7F, 0x80, 0xE1, 0xFA, 0xFF, 0x09]
        for round in 0..<200_000 {
            var bytes = (0..<8).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if round % 2 == 0 {
                for k in 0..<8 where random.next() % 2 == 0 { bytes[k] = special[Int(random.next() % UInt64(special.count))] }
            }
            if round < 256 * 8 { bytes[round / 256] = UInt8(round % 256) }  // each byte value at each position
            let word = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            let space = bytes.firstIndex(of: 0x20)
            let got = HTTPEventMatcher.methodWord(leading: word)
            guard let space, space > 0 else {
                #expect(got == nil, "\(bytes)")
                continue
            }
            let expected = bytes.withUnsafeBufferPointer { HTTPEventMatcher.methodWord(UnsafeBufferPointer(rebasing: $0[0..<space])) }
            #expect(got?.word == expected && got?.count == space, "\(bytes)")
        }
    }

    /// A request line read with its method from one load names the same event as its method
    /// and target given apart, with methods in any case, short and long, and odd spacing.
    @Test func requestLinesAsMethodAndTarget() {
        let rules = [
            HTTPEventRule(method: "POST", pathPrefix: "/api/posts", event: "post"),
            HTTPEventRule(method: "get", pathPrefix: "/a", event: "get_a"),
            HTTPEventRule(method: "PROPPATCH", pathPrefix: "/dav", event: "dav"),
            HTTPEventRule(method: "M\u{E9}", pathPrefix: "/", event: "accented"),
        ]
        let matcher = HTTPEventMatcher(rules: rules)
        var random = SplitMix64(seed: 11)
        let methods = ["POST", "post", "PoSt", "GET", "get", "PROPPATCH", "proppatch", "M\u{E9}", "m\u{E9}", "", "P", "POSTPOST", "A B"]
        let targets = ["/api/posts", "/api/posts/1", "/a", "/A", "/dav/x", "/", "", "/api/%70osts", "//api/posts", "http://h/api/posts"]
        for _ in 0..<20_000 {
            let method = methods[Int(random.next() % UInt64(methods.count))]
            let target = targets[Int(random.next() % UInt64(targets.count))]
            let separator = [" ", "  ", " "][Int(random.next() % 3)]
            let tail = ["", " HTTP/1.1", " HTTP/2.0 x", " "][Int(random.next() % 4)]
            let line = Array((method + separator + target + tail).utf8)
            let got = line.withUnsafeBufferPointer { b in
                String(decoding: matcher.classify(requestLine: b.baseAddress ?? UnsafePointer(bitPattern: 1)!, 0, b.count), as: UTF8.self)
            }
            // The definition: the method up to the first space, the target after the spaces
            // there (nginx skips them) up to the next.
            var expected = "http_request"
            if let space = line.firstIndex(of: 0x20) {
                let rest = line[(space + 1)...].drop { $0 == 0x20 }
                let targetBytes = Array(rest.prefix { $0 != 0x20 })
                let methodBytes = Array(line[..<space])
                expected = methodBytes.withUnsafeBufferPointer { m in
                    targetBytes.withUnsafeBufferPointer { t in String(decoding: matcher.classify(method: m, target: t), as: UTF8.self) }
                }
            }
            #expect(got == expected, "\(String(decoding: line, as: UTF8.self))")
        }
    }

    /// The one-pass scan of a target (its end and whether it needs normalising) against the
    /// plain definition: the target is the request's bytes up to its first space, and a
    /// verdict (a length) is given only for a target that needs no normalising. Marks land on
    /// every offset within and across blocks; the bytes after the request (which the scan may
    /// load but must not count) are random marks too.
    #if arch(x86_64)
    @Test func targetEndAndVerdictInOnePass() {
        var random = SplitMix64(seed: 12)
        let alphabet = Array("/.%?# ab".utf8)
        let marks = ["%", "//", "/.", "?", "#", " ", "/", ".", "?//", "#%", "a"].map { Array($0.utf8) }
        var answered = 0
        for round in 0..<80_000 {
            var request: [UInt8]
            if round % 3 == 0 {
                request = (0..<Int.random(in: 0...50, using: &random)).map { _ in alphabet[Int(random.next() % 8)] }
            } else {
                request = [0x2F] + (1..<Int.random(in: 1...50, using: &random)).map { k in k % 6 == 0 ? 0x2F : 0x61 }
                for _ in 0..<Int.random(in: 0...2, using: &random) {
                    let mark = marks[Int(random.next() % UInt64(marks.count))]
                    request.insert(contentsOf: mark, at: Int.random(in: 0...request.count, using: &random))
                }
            }
            let tail = (0..<Int.random(in: 0...40, using: &random)).map { _ in alphabet[Int(random.next() % 8)] }
            let buffer = request + tail
            let target = Array(request.prefix { $0 != 0x20 })
            let expected: Int? = Self.referenceNeedsNormalising(target) ? nil : target.count
            let got = buffer.withUnsafeBufferPointer { b in
                HTTPEventMatcher.cleanTargetLength(
                    b.baseAddress ?? UnsafePointer(bitPattern: 16)!, available: request.count, readable: b.count)
            }
            let text = String(decoding: request, as: UTF8.self) + " | " + String(decoding: tail, as: UTF8.self)
            if got != nil { answered += 1 }
            // Nil is allowed (the general path decides) only when the scan could not read far
            // enough: the target's end and every byte before it were within reach otherwise.
            if got == nil && expected != nil {
                // The block holding the target's space, or the request's last byte.
                let needed = (target.count < request.count ? target.count : max(0, request.count - 1)) / 16 * 16
                #expect(buffer.count < needed + 16, "\(text)")
            } else {
                #expect(got == expected, "\(text)")
            }
        }
        #expect(answered > 20_000)
    }
    #endif

    /// Request lines read out of whole lines (the rest of the line readable after them), many
    /// repeated and many differing from a repeated one in one byte or in length, as the
    /// remembered lines see them: every answer is the plain definition's.
    @Test func rememberedRequestLinesAnswerAsDefined() {
        let rules = [
            HTTPEventRule(method: "POST", pathPrefix: "/api/verify/phone", event: "verify_phone"),
            HTTPEventRule(method: "POST", pathPrefix: "/api/v", event: "v"),
            HTTPEventRule(method: "get", pathPrefix: "/api/feed", event: "feed"),
            HTTPEventRule(method: "PUT", pathPrefix: "/", event: "put"),
            HTTPEventRule(method: "PROPPATCH", pathPrefix: "/dav", event: "dav"),
        ]
        let matcher = HTTPEventMatcher(rules: rules)
        var random = SplitMix64(seed: 13)
        let base = [
            "GET /api/feed HTTP/1.1", "POST /api/verify/phone HTTP/1.1", "POST /api/verify/phon HTTP/1.1", "post /api/v HTTP/1.1",
            "PUT /x", "GET /api/feed", "POST /api/verify/phone/abcdefghij HTTP/1.1", "PROPPATCH /dav HTTP/1.1",
            "GET /api/%66eed HTTP/1.1", "GET //api/feed HTTP/1.1", "GET /api/feed?x=1 HTTP/1.1",
        ].map { Array($0.utf8) }
        let changes = Array("Ge /%.?#xP\"".utf8) + [0x00, 0xC3, 0xFF]
        for _ in 0..<60_000 {
            var request = base[Int(random.next() % UInt64(base.count))]
            switch random.next() % 4 {
            case 0: request[Int(random.next() % UInt64(request.count))] = changes[Int(random.next() % UInt64(changes.count))]
            case 1: request.removeLast(Int(random.next() % UInt64(request.count)))
            case 2: request.insert(changes[Int(random.next() % UInt64(changes.count))], at: Int(random.next() % UInt64(request.count + 1)))
            default: break
            }
            let head = Array("1.2.3.4 - - [x] \"".utf8)
            let tail = Array("\" 200 5 \"-\" \"agent GET /api/feed\"".utf8).prefix(Int(random.next() % 40))
            let line = head + request + tail
            let got = line.withUnsafeBufferPointer { b in
                String(
                    decoding: matcher.classify(requestLine: b.baseAddress!, head.count, head.count + request.count, readable: b.count),
                    as: UTF8.self)
            }
            #expect(got == Self.referenceEvent(request, rules: rules, matcher: matcher), "\(String(decoding: request, as: UTF8.self))")
        }
    }

    /// The plain definition of a request line's event: the method up to the first space (ASCII
    /// letters in any case), the target up to the next, normalised when it needs it, then the
    /// first rule of that method whose prefix starts it.
    static func referenceEvent(_ request: [UInt8], rules: [HTTPEventRule], matcher: HTTPEventMatcher) -> String {
        guard let space = request.firstIndex(of: 0x20) else { return "http_request" }
        let upper = { (bytes: [UInt8]) in bytes.map { $0 &- 0x61 < 26 ? $0 - 0x20 : $0 } }
        let method = upper(Array(request[..<space]))
        // Spaces before the target are skipped, as nginx skips them.
        let target = Array(request[(space + 1)...].drop { $0 == 0x20 }.prefix { $0 != 0x20 })
        let normalised = referenceNeedsNormalising(target) ? target.withUnsafeBufferPointer { Array(matcher.normalise($0)) } : target
        return rules.first { upper(Array($0.method.utf8)) == method && normalised.starts(with: Array($0.pathPrefix.utf8)) }?.event
            ?? "http_request"
    }
}
