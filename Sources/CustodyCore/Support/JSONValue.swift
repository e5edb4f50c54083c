/// A JSON value whose objects keep their keys in the order they were built, so every document
/// Custody writes has a stable, documented layout and byte-identical output for equal inputs.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The same value with every object's keys sorted: with `rendered(pretty: false)`, the
    /// canonical form that ledger hashes are computed over.
    public var canonicalized: JSONValue {
        switch self {
        case .array(let items): return .array(items.map(\.canonicalized))
        case .object(let pairs):
            return .object(pairs.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }.map { ($0.0, $0.1.canonicalized) })
        default: return self
        }
    }

    /// Canonical JSON text: sorted keys, no whitespace.
    public var canonicalText: String { canonicalized.rendered(pretty: false) }

    /// Parses JSON text into a value (object keys in their order); nil if it is not one JSON value.
    public static func parse(_ text: String) -> JSONValue? {
        var parser = JSONTextParser(Array(text.utf8))
        guard let value = parser.value() else { return nil }
        parser.skipSpace()
        return parser.atEnd ? value : nil
    }

    /// Member of an object, if this is one.
    public subscript(key: String) -> JSONValue? {
        if case .object(let pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    public var intValue: Int? {
        if case .int(let i) = self { return i }
        return nil
    }
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// Pretty-printed with two-space indentation (`pretty`) or compact on one line.
    public func rendered(pretty: Bool = true) -> String {
        var out = JSONText()
        write(into: &out, indent: pretty ? 0 : nil)
        return out.string
    }

    func write(into out: inout JSONText, indent: Int?) {
        switch self {
        case .null: out.append("null")
        case .bool(let b): out.append(b ? "true" : "false")
        case .int(let i): out.append(String(i))
        case .double(let d):
            if d.isFinite { out.append(d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)) } else { out.append("null") }
        case .string(let s): out.quote(s)
        case .array(let items):
            if items.isEmpty {
                out.append("[]")
                return
            }
            // Arrays of scalars stay on one line: lists of days read better that way.
            let scalars = items.allSatisfy {
                if case .array = $0 { return false }
                if case .object = $0 { return false }
                return true
            }
            out.append("[")
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(indent == nil || scalars ? (indent == nil ? "," : ", ") : ",") }
                if let indent, !scalars { out.newline(indent: indent + 1) }
                item.write(into: &out, indent: indent.map { $0 + 1 })
            }
            if let indent, !scalars { out.newline(indent: indent) }
            out.append("]")
        case .object(let pairs):
            if pairs.isEmpty {
                out.append("{}")
                return
            }
            out.append("{")
            for (i, (key, value)) in pairs.enumerated() {
                if i > 0 { out.append(",") }
                if let indent { out.newline(indent: indent + 1) }
                out.quote(key)
                out.append(indent == nil ? ":" : ": ")
                value.write(into: &out, indent: indent.map { $0 + 1 })
            }
            if let indent { out.newline(indent: indent) }
            out.append("}")
        }
    }
}

/// JSON text being written, as UTF-8 bytes: appending to a `String` piece by piece (its
/// capacity and flags checked and updated at each append) was most of the time a check report
/// of 2,000 findings took to write, after the last file was read (perf).
struct JSONText {
    private(set) var bytes: [UInt8] = []

    var count: Int { bytes.count }
    var string: String { String(decoding: bytes, as: UTF8.self) }

    mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    mutating func append(_ s: String) {
        if s.utf8.withContiguousStorageIfAvailable({ bytes.append(contentsOf: $0) }) == nil { bytes.append(contentsOf: s.utf8) }
    }

    /// `i` in decimal, as `String(i)` writes it, without building that string.
    mutating func append(_ i: Int) {
        guard i >= 0 else {
            append(String(i))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { raw in
            var v = UInt(i)
            var at = raw.count
            repeat {
                at -= 1
                raw[at] = UInt8(truncatingIfNeeded: 0x30 &+ v % 10)
                v /= 10
            } while v > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[at...]))
        }
    }

    /// `"key": ` for a key that needs no escape, at depth `indent` (see `JSONValue.write`).
    mutating func member(_ key: StaticString, indent: Int, first: Bool) {
        if !first { bytes.append(0x2C) }
        newline(indent: indent)
        bytes.append(0x22)
        bytes.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        bytes.append(0x22)
        bytes.append(0x3A)
        bytes.append(0x20)
    }

    /// What goes before item `index` of an array at depth one whose items are at depth two:
    /// a comma after the first, then a new line.
    mutating func startItem(_ index: Int) {
        if index > 0 { bytes.append(0x2C) }
        newline(indent: 2)
    }

    /// Appends `other`'s bytes.
    mutating func append(_ other: JSONText) { bytes.append(contentsOf: other.bytes) }

    /// A line break and `indent` levels of two spaces.
    mutating func newline(indent: Int) {
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(0x20, count: 2 * indent))
    }

    /// `s` as a JSON string: quoted, with `"`, `\` and control characters escaped.
    mutating func quote(_ s: String) {
        bytes.append(0x22)
        // Most strings need no escape: appended whole, not scalar by scalar; checked over the
        // bytes in place where the string has them so (native strings do).
        func needsEscape(_ c: UInt8) -> Bool { c < 0x20 || c == 0x22 || c == 0x5C }
        let plain = s.utf8.withContiguousStorageIfAvailable { !$0.contains(where: needsEscape) } ?? !s.utf8.contains(where: needsEscape)
        if plain {
            append(s)
            bytes.append(0x22)
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": append("\\\"")
            case "\\": append("\\\\")
            case "\n": append("\\n")
            case "\r": append("\\r")
            case "\t": append("\\t")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: UTF8.encode(scalar) { bytes.append($0) }
            }
        }
        bytes.append(0x22)
    }
}
