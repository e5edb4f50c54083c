import CLineScan
import CustodyCore

@testable import CustodyIngest

/// For tests that hold the structural walk to the full walk: a parser that tries the structural
/// walk on every line (never pausing), one that only takes the full walk, and the structural
/// walk's own key table, over one policy's field names.
final class WalkComparison {
    struct MissingStructuralKeys: Error {}

    let fields: FieldTable
    var structural: JSONLineParser
    var full: JSONLineParser
    /// The table `custody_json_walk` and `custody_json_walk_portable` are called with here.
    let keys: UnsafeMutablePointer<custody_json_keys>
    /// Lines on which the two parsers, or the walk's two forms, disagreed.
    private(set) var disagreements: [String] = []

    init(policy: Policy) throws {
        fields = FieldTable(policy.fields)
        structural = JSONLineParser(fields: fields)
        structural.usesStructuralWalk = true
        structural.pausesStructuralWalk = false
        full = JSONLineParser(fields: fields)
        full.usesStructuralWalk = false
        guard let keys = fields.structuralKeys() else {
            structural.deallocate()
            full.deallocate()
            fields.deallocate()
            throw MissingStructuralKeys()
        }
        self.keys = keys
    }

    deinit {
        structural.deallocate()
        full.deallocate()
        keys.deallocate()
        fields.deallocate()
    }

    static func verdict(_ parser: inout JSONLineParser, _ bytes: [UInt8]) -> Parsed {
        switch bytes.withUnsafeBufferPointer({ parser.parse($0) }) {
        case .record(let r):
            return .record(
                millis: r.millis, user: r.user.map { String(decoding: $0, as: UTF8.self) },
                event: r.event.map { String(decoding: $0, as: UTF8.self) })
        case .rejected(let rejection): return .rejected(rejection)
        case .skipped: return .skipped
        }
    }

    /// The full walk's verdict on `bytes`, and whether the structural walk (portable form) took
    /// the line; a disagreement between the parsers, or between the AVX-512 and portable forms
    /// of the walk, is recorded in `disagreements`.
    @discardableResult
    func compare(_ bytes: [UInt8]) -> (verdict: Parsed, taken: Bool) {
        let fast = Self.verdict(&structural, bytes)
        let slow = Self.verdict(&full, bytes)
        let line = String(decoding: bytes, as: UTF8.self)
        if fast != slow { disagreements.append("\(line): \(fast) vs \(slow)") }
        let avx = bytes.withUnsafeBufferPointer { custody_json_walk($0.baseAddress, $0.count, keys) }
        let portable = bytes.withUnsafeBufferPointer { custody_json_walk_portable($0.baseAddress, $0.count, keys) }
        if avx.low != portable.low || avx.high != portable.high { disagreements.append("AVX-512 against portable: \(line)") }
        return (slow, portable.high & CUSTODY_JSON_ACCEPTED != 0)
    }
}
