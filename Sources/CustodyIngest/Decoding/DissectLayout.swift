import Foundation

/// A `pattern` (dissect) or `nginx` (`log_format`) compiled to a byte-level splitter: literal
/// text between fields, each field ending at the next occurrence of the literal after it, the
/// last field (when nothing follows it) taking the rest of the line. No regular expression and
/// no per-line allocation: a line costs one `memchr` per field plus the literal compares.
struct DissectLayout: Sendable {
    struct Field: Sendable {
        /// Index in `names`, or nil for a skipped field (`%{?x}`, `%{}`).
        var slot: Int?
        /// `%{+name}`: appended (after a space) to the earlier field of the same name.
        var append: Bool
        /// `%{name->}`: repeats of the following literal are skipped (padding).
        var padded: Bool
        /// The literal that ends this field; empty for a last field that takes the rest.
        var delimiter: [UInt8]
    }

    let leading: [UInt8]
    let fields: [Field]
    /// Field names, in order of first appearance.
    let names: [String]
    /// Some field is appended to: values are assembled in scratch memory.
    let hasAppends: Bool

    /// Compiles a dissect pattern: `%{name}`, `%{?name}` or `%{}` (skipped), `%{+name}` (append),
    /// `%{name->}` (right padding).
    static func pattern(_ text: String) throws(LayoutError) -> DissectLayout {
        var pieces: [(literal: [UInt8], field: (name: String, skip: Bool, append: Bool, padded: Bool)?)] = []
        let bytes = Array(text.utf8)
        var literal: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x25, i + 1 < bytes.count, bytes[i + 1] == 0x7B {
                guard let close = bytes[(i + 2)...].firstIndex(of: 0x7D) else { throw LayoutError("'%{' at byte \(i + 1) is not closed") }
                var name = String(decoding: bytes[(i + 2)..<close], as: UTF8.self)
                var skip = name.isEmpty
                var append = false
                var padded = false
                if name.hasSuffix("->") {
                    padded = true
                    name.removeLast(2)
                }
                if name.hasPrefix("?") {
                    skip = true
                    name.removeFirst()
                } else if name.hasPrefix("+") {
                    append = true
                    name.removeFirst()
                } else if name.hasPrefix("*") || name.hasPrefix("&") {
                    throw LayoutError("reference keys (%{*name}, %{&name}) are not supported")
                }
                if let slash = name.firstIndex(of: "/") { name = String(name[..<slash]) }  // %{+name/2}: order ignored
                if !skip && name.isEmpty { throw LayoutError("a field at byte \(i + 1) has no name") }
                pieces.append((literal, (name, skip, append, padded)))
                literal = []
                i = close + 1
            } else {
                literal.append(bytes[i])
                i += 1
            }
        }
        pieces.append((literal, nil))
        return try build(pieces)
    }

    /// Compiles an nginx `log_format`: `$name` and `${name}` are fields; anything else is literal.
    /// A whole pasted directive (`log_format main '…' '…';`) is accepted: its quoted parts are joined.
    static func nginx(_ text: String) throws(LayoutError) -> DissectLayout {
        let format = unwrapDirective(text)
        var pieces: [(literal: [UInt8], field: (name: String, skip: Bool, append: Bool, padded: Bool)?)] = []
        let bytes = Array(format.utf8)
        var literal: [UInt8] = []
        var i = 0
        func isNameByte(_ c: UInt8) -> Bool { (c | 0x20) &- 0x61 < 26 || c &- 0x30 < 10 || c == 0x5F }
        while i < bytes.count {
            guard bytes[i] == 0x24 else {
                literal.append(bytes[i])
                i += 1
                continue
            }
            var start = i + 1
            var end = start
            if start < bytes.count, bytes[start] == 0x7B {
                start += 1
                guard let close = bytes[start...].firstIndex(of: 0x7D) else { throw LayoutError("'${' at byte \(i + 1) is not closed") }
                end = close
                i = close + 1
            } else {
                while end < bytes.count, isNameByte(bytes[end]) { end += 1 }
                i = end
            }
            guard end > start else { throw LayoutError("'$' at byte \(start) is not followed by a variable name") }
            pieces.append((literal, (String(decoding: bytes[start..<end], as: UTF8.self), false, false, false)))
            literal = []
        }
        pieces.append((literal, nil))
        return try build(pieces)
    }

    /// `log_format main '$a - $b' '"$c"';` → `$a - $b"$c"`; anything else is returned as it is.
    static func unwrapDirective(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("log_format ") else { return text }
        var result = ""
        var quote: Character?
        for c in trimmed {
            if let q = quote {
                if c == q { quote = nil } else { result.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c
            }
        }
        return result
    }

    private static func build(
        _ pieces: [(literal: [UInt8], field: (name: String, skip: Bool, append: Bool, padded: Bool)?)]
    ) throws(LayoutError) -> DissectLayout {
        var names: [String] = []
        var fields: [Field] = []
        var hasAppends = false
        for (k, piece) in pieces.enumerated() {
            guard let field = piece.field else { continue }
            let delimiter = pieces[k + 1].literal
            if delimiter.isEmpty && pieces[k + 1].field != nil {
                throw LayoutError("fields '\(field.name)' and '\(pieces[k + 1].field!.name)' have no text between them")
            }
            var slot: Int?
            var appends = false
            if !field.skip {
                if let existing = names.firstIndex(of: field.name) {
                    guard field.append else { throw LayoutError("field '\(field.name)' appears twice (use %{+\(field.name)} to append)") }
                    slot = existing
                    appends = true
                    hasAppends = true
                } else {
                    names.append(field.name)
                    slot = names.count - 1
                }
            }
            fields.append(Field(slot: slot, append: appends, padded: field.padded, delimiter: delimiter))
        }
        guard !fields.isEmpty else { throw LayoutError("has no fields") }
        return DissectLayout(leading: pieces[0].literal, fields: fields, names: names, hasAppends: hasAppends)
    }

    /// The first occurrence of `needle` in `p[from..<n]`.
    @inline(__always)
    static func find(_ needle: [UInt8], _ p: UnsafePointer<UInt8>, from: Int, _ n: Int) -> Int? {
        needle.withUnsafeBufferPointer { d -> Int? in
            let first = d[0]
            let count = d.count
            var i = from
            while i + count <= n {
                guard let hit = memchr(p + i, Int32(first), n - i - count + 1) else { return nil }
                let at = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - p
                if count == 1 || memcmp(p + at + 1, d.baseAddress! + 1, count - 1) == 0 { return at }
                i = at + 1
            }
            return nil
        }
    }
}

/// A `DissectLayout` laid out for the hot path: fields and literals in memory it owns, so that
/// splitting a line touches no array (no retain, release or bounds check per field).
final class DissectSplitter {
    private struct CompiledField {
        /// -1 for a skipped field.
        var slot: Int
        var append: Bool
        var padded: Bool
        var delimiterOffset: Int
        var delimiterCount: Int
    }

    private let fields: UnsafeMutablePointer<CompiledField>
    private let fieldCount: Int
    private let bytes: UnsafeMutablePointer<UInt8>
    private let leadingCount: Int

    init(_ layout: DissectLayout) {
        let pool = layout.leading + layout.fields.flatMap(\.delimiter)
        bytes = .allocate(capacity: max(pool.count, 1))
        bytes.initialize(from: pool, count: pool.count)
        leadingCount = layout.leading.count
        fieldCount = layout.fields.count
        fields = .allocate(capacity: fieldCount)
        var offset = leadingCount
        for (k, field) in layout.fields.enumerated() {
            (fields + k).initialize(
                to: CompiledField(
                    slot: field.slot ?? -1, append: field.append, padded: field.padded,
                    delimiterOffset: offset, delimiterCount: field.delimiter.count))
            offset += field.delimiter.count
        }
    }

    deinit {
        fields.deallocate()
        bytes.deallocate()
    }

    @inline(__always)
    private static func same(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        var k = 0
        while k < count {
            if a[k] != b[k] { return false }
            k += 1
        }
        return true
    }

    /// The first occurrence of `count` bytes at `d` in `p[from..<n]`.
    @inline(__always)
    private static func find(_ d: UnsafePointer<UInt8>, _ count: Int, _ p: UnsafePointer<UInt8>, from: Int, _ n: Int) -> Int? {
        var i = from
        while i + count <= n {
            guard let hit = memchr(p + i, Int32(d[0]), n - i - count + 1) else { return nil }
            let at = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - p
            if same(p + at + 1, d + 1, count - 1) { return at }
            i = at + 1
        }
        return nil
    }

    /// Splits a line: `starts[k]`/`ends[k]` of field slot k (appended fields are assembled in
    /// `scratch`, and their spans then point there). False when the line does not match.
    func split(
        _ p: UnsafePointer<UInt8>, _ n: Int, starts: UnsafeMutablePointer<Int>, ends: UnsafeMutablePointer<Int>,
        bases: UnsafeMutablePointer<UnsafePointer<UInt8>>, scratch: UnsafeMutablePointer<UInt8>
    ) -> Bool {
        guard n >= leadingCount, Self.same(p, bytes, leadingCount) else { return false }
        var i = leadingCount
        var used = 0
        for k in 0..<fieldCount {
            let field = fields[k]
            let start = i
            let end: Int
            if field.delimiterCount == 0 {
                end = n
                i = n
            } else {
                let d = UnsafePointer(bytes + field.delimiterOffset)
                guard let found = Self.find(d, field.delimiterCount, p, from: i, n) else { return false }
                end = found
                i = found + field.delimiterCount
                if field.padded {
                    while i + field.delimiterCount <= n, Self.same(p + i, d, field.delimiterCount) { i += field.delimiterCount }
                }
            }
            let slot = field.slot
            if slot < 0 { continue }
            if field.append {
                // Copy the earlier part and this one, joined by a space, into scratch.
                let earlierCount = ends[slot] - starts[slot]
                let total = earlierCount + 1 + (end - start)
                guard starts[slot] >= 0, used + total <= LineReader.maximumLineLength else { return false }
                let out = scratch + used
                memmove(out, bases[slot] + starts[slot], earlierCount)
                out[earlierCount] = 0x20
                memcpy(out + earlierCount + 1, p + start, end - start)
                bases[slot] = UnsafePointer(out)
                starts[slot] = 0
                ends[slot] = total
                used += total
            } else {
                bases[slot] = p
                starts[slot] = start
                ends[slot] = end
            }
        }
        return i == n
    }
}

/// Why a `pattern`, `nginx` or `regex` layout cannot be compiled.
struct LayoutError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
