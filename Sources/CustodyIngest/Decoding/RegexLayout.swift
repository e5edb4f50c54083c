import Foundation

/// A `regex` layout: a regular expression whose named groups (`(?P<name>…)` or `(?<name>…)`)
/// are the fields. Slower than a pattern (it builds a string per line for the regex engine):
/// for formats a pattern cannot describe.
///
/// The line is handed to the engine as ISO-8859-1 text, one character per byte, so that the
/// match offsets are byte offsets and the fields are the line's exact bytes (invalid UTF-8
/// included); `\S`, `\d`, `\w` and literals mean what they mean for ASCII.
final class RegexLayout: @unchecked Sendable {
    let names: [String]
    private let expression: NSRegularExpression

    init(_ text: String) throws(LayoutError) {
        // Python's `(?P<name>` is ICU's `(?<name>`.
        let translated = text.replacingOccurrences(of: "(?P<", with: "(?<")
        do {
            expression = try NSRegularExpression(pattern: translated)
        } catch {
            throw LayoutError("not a valid regular expression")
        }
        var names: [String] = []
        let bytes = Array(translated.utf8)
        var i = 0
        while i + 3 < bytes.count {
            if bytes[i] == 0x5C {
                i += 2
                continue
            }
            if bytes[i] == 0x28, bytes[i + 1] == 0x3F, bytes[i + 2] == 0x3C, bytes[i + 3] != 0x3D, bytes[i + 3] != 0x21,
                let close = bytes[(i + 3)...].firstIndex(of: 0x3E)
            {
                let name = String(decoding: bytes[(i + 3)..<close], as: UTF8.self)
                if !names.contains(name) { names.append(name) }
                i = close
            }
            i += 1
        }
        guard !names.isEmpty else { throw LayoutError("has no named groups ((?P<name>…))") }
        self.names = names
    }

    func split(
        _ p: UnsafePointer<UInt8>, _ n: Int, starts: UnsafeMutablePointer<Int>, ends: UnsafeMutablePointer<Int>,
        bases: UnsafeMutablePointer<UnsafePointer<UInt8>>
    ) -> Bool {
        // An NSString over Latin-1 bytes: the engine reads it without converting a Swift string
        // (measured 10× faster than a String built from the bytes).
        guard let string = NSString(bytes: p, length: n, encoding: String.Encoding.isoLatin1.rawValue) else { return false }
        let text = string as String
        guard let match = expression.firstMatch(in: text, range: NSRange(location: 0, length: n)) else { return false }
        for (k, name) in names.enumerated() {
            let range = match.range(withName: name)
            if range.location == NSNotFound {
                starts[k] = -1
                ends[k] = -1
            } else {
                bases[k] = p
                starts[k] = range.location
                ends[k] = range.location + range.length
            }
        }
        return true
    }
}
