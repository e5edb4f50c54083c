import CustodyCore
import Foundation
import Testing

/// Unix milliseconds of a UTC wall-clock time, computed independently of the parser under test.
func utcMillis(
    _ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0,
    _ millis: Int = 0
) -> Int64 {
    var components = DateComponents()
    components.year = year
    components.month = month
    components.day = day
    components.hour = hour
    components.minute = minute
    components.second = second
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let date = calendar.date(from: components)!
    return Int64(date.timeIntervalSince1970.rounded()) * 1000 + Int64(millis)
}

/// Runs one of the byte-level timestamp parsers on the UTF-8 bytes of `text`.
func parseBytes(_ text: String, _ parser: (UnsafeBufferPointer<UInt8>) -> Int64?) -> Int64? {
    let bytes = Array(text.utf8)
    return bytes.withUnsafeBufferPointer { parser($0) }
}

/// A complete, valid policy; tests derive broken variants from it by editing lines.
let basePolicyYAML = """
    id: test-policy
    title: A test policy
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
      publish_events: [post, comment]
    fields:
      timestamp: [ts, time]
      user: [user, uid]
      event: [event]
    http_events:
      - { method: post, path_prefix: /api/posts, event: post }
      - { method: POST, path_prefix: /api/verify/phone, event: verify_phone }
    """

/// Parses policy YAML, failing the test with the error if it does not load.
func loadPolicy(_ text: String = basePolicyYAML, file: String = "test.yaml") throws -> Policy {
    try PolicyLoader.parse(text, file: file)
}

/// The error `PolicyLoader.parse` throws for `text`; fails the test if it loads or throws something else.
func policyError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> ConfigurationError? {
    do {
        _ = try PolicyLoader.parse(text, file: "bad.yaml")
        Issue.record("expected a ConfigurationError, the policy loaded", sourceLocation: sourceLocation)
        return nil
    } catch let error as ConfigurationError {
        return error
    } catch {
        Issue.record("expected a ConfigurationError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// `basePolicyYAML` with line `number` (1-based) replaced by `replacement` lines (none to delete).
func replacingLine(_ number: Int, with replacement: [String], in text: String = basePolicyYAML) -> String {
    var lines = text.components(separatedBy: "\n")
    lines.replaceSubrange((number - 1)...(number - 1), with: replacement)
    return lines.joined(separator: "\n")
}

/// The 1-based line of `basePolicyYAML` (or `text`) that starts with `prefix` after indentation.
func lineNumber(of prefix: String, in text: String = basePolicyYAML) -> Int {
    let lines = text.components(separatedBy: "\n")
    guard let index = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) }) else {
        fatalError("no line starts with \(prefix)")
    }
    return index + 1
}

/// The repository root, found from this file's location.
let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
}()
