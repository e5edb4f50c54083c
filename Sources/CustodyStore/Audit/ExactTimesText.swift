/// The `pending_publishes.exact_times_ms` column: a JSON array of integers, `[1,2,3]`.
///
/// Read with a byte scan, not `JSONDecoder`: one decoder per row was a noticeable part of
/// auditing a state with tens of thousands of pending spans.
enum ExactTimesText {
    static func format(_ times: [Int64]) -> String {
        "[" + times.map(String.init).joined(separator: ",") + "]"
    }

    /// The integers of a JSON array of integers (spaces allowed); nil for any other text, which
    /// the audit then treats as a span whose times are not known exactly.
    static func parse(_ text: String) -> [Int64]? {
        var text = text
        return text.withUTF8 { parse($0) }
    }

    /// `parse` of the text's UTF-8 bytes.
    static func parse(_ text: UnsafeBufferPointer<UInt8>) -> [Int64]? {
        var times: [Int64] = []
        var bytes = text[...]
        func skipSpaces() { while let b = bytes.first, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { bytes.removeFirst() } }
        skipSpaces()
        guard bytes.popFirst() == UInt8(ascii: "[") else { return nil }
        skipSpaces()
        if bytes.first == UInt8(ascii: "]") {
            bytes.removeFirst()
            skipSpaces()
            return bytes.isEmpty ? times : nil
        }
        while true {
            skipSpaces()
            let negative = bytes.first == UInt8(ascii: "-")
            if negative { bytes.removeFirst() }
            var value: Int64 = 0
            var digits = 0
            while let b = bytes.first, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int64(b - UInt8(ascii: "0")))
                guard !o1, !o2 else { return nil }
                value = sum
                digits += 1
                bytes.removeFirst()
            }
            guard digits > 0 else { return nil }
            times.append(negative ? -value : value)
            skipSpaces()
            switch bytes.popFirst() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "]"):
                skipSpaces()
                return bytes.isEmpty ? times : nil
            default: return nil
            }
        }
    }
}
