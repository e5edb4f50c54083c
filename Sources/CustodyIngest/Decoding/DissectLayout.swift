import Foundation

/// A `pattern` (dissect) or `nginx` (`log_format`) compiled to a byte-level splitter: literal
/// text between fields, each field ending at the next occurrence of the literal after it, the
/// last field (when nothing follows it) taking the rest of the line. No regular expression and
/// no per-line allocation: a line costs one inline delimiter scan (`DelimiterScan`) per field
/// plus the literal compares.
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
}

/// A `DissectLayout` laid out for the hot path: fields and literals in memory it owns, so that
/// splitting a line touches no array (no retain, release or bounds check per field).
///
/// Each delimiter is found by `DelimiterScan` (inline, no libc call); the rest of a delimiter
/// (up to 8 bytes) is compared as one word. Fields whose value the resolver never reads
/// (`needed` false) are still matched, so a line matches exactly as before, but their positions
/// are not stored. Appends and padding, rare, leave the loop for `splitRare`.
///
/// A struct of pointers rather than a class, so that calling it retains nothing: its owner
/// calls `deallocate()`.
struct DissectSplitter {
    private struct CompiledField {
        /// The delimiter's bytes (in `bytes`), and how many; 0 for a last field taking the rest.
        var delimiter: UnsafePointer<UInt8>
        var count: Int
        /// The delimiter's first `min(count, 8)` bytes as a little-endian word, and the mask
        /// of those bytes.
        var word: UInt64
        var wordMask: UInt64
        /// -1 for a skipped field, or one whose value is not needed.
        var slot: Int
        var append: Bool
        var padded: Bool
    }

    private let fields: UnsafeMutablePointer<CompiledField>
    /// Per field, its delimiter's first byte made into a `DelimiterScan.Needle`.
    private let needles: UnsafeMutablePointer<DelimiterScan.Needle>
    private let fieldCount: Int
    private let bytes: UnsafeMutablePointer<UInt8>
    private let leadingCount: Int
    /// Some field appends or is padded: lines go through `splitRare`.
    private let hasRareFields: Bool

    /// - Parameter needed: per slot of `layout.names`, whether its value is read (nil: all are).
    init(_ layout: DissectLayout, needed: [Bool]? = nil) {
        let pool = layout.leading + layout.fields.flatMap(\.delimiter)
        bytes = .allocate(capacity: max(pool.count, 1))
        bytes.initialize(from: pool, count: pool.count)
        leadingCount = layout.leading.count
        fieldCount = layout.fields.count
        fields = .allocate(capacity: fieldCount)
        needles = .allocate(capacity: fieldCount)
        var offset = leadingCount
        var rare = false
        for (k, field) in layout.fields.enumerated() {
            var slot = field.slot ?? -1
            if slot >= 0, let needed, slot < needed.count, !needed[slot] { slot = -1 }
            var word: UInt64 = 0
            for (b, byte) in field.delimiter.prefix(8).enumerated() { word |= UInt64(byte) << UInt64(8 * b) }
            let wordBytes = min(field.delimiter.count, 8)
            (fields + k).initialize(
                to: CompiledField(
                    delimiter: UnsafePointer(bytes + offset), count: field.delimiter.count, word: word,
                    wordMask: wordBytes == 8 ? ~0 : (1 << UInt64(8 * wordBytes)) &- 1, slot: slot,
                    append: field.append && slot >= 0, padded: field.padded))
            (needles + k).initialize(to: DelimiterScan.needle(field.delimiter.first ?? 0))
            rare = rare || (field.append && slot >= 0) || field.padded
            offset += field.delimiter.count
        }
        hasRareFields = rare
    }

    func deallocate() {
        fields.deallocate()
        needles.deallocate()
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

    /// Where field `f`'s delimiter starts at or after `from`, or nil.
    @inline(__always)
    private func delimiter(
        _ f: UnsafeMutablePointer<CompiledField>, _ needle: DelimiterScan.Needle, _ p: UnsafePointer<UInt8>, from: Int, _ n: Int
    ) -> Int? {
        let count = f.pointee.count
        if count > 8 { return DelimiterScan.find(f.pointee.delimiter, count, needle, p, from: from, n) }
        let limit = n &- count &+ 1
        let first = f.pointee.delimiter[0]
        var i = from
        while let at = DelimiterScan.firstIndex(needle, first, p, from: i, limit: limit) {
            if count == 1 { return at }
            if at &+ 8 <= n {
                // The whole delimiter in one compare.
                let word = UInt64(littleEndian: UnsafeRawPointer(p + at).loadUnaligned(as: UInt64.self))
                if word & f.pointee.wordMask == f.pointee.word { return at }
            } else if Self.same(p + at, f.pointee.delimiter, count) {
                return at
            }
            i = at &+ 1
        }
        return nil
    }

    /// Splits a line: `starts[k]`/`ends[k]` of field slot k (appended fields are assembled in
    /// `scratch`, and their spans then point there). False when the line does not match. On a
    /// match every needed slot is set, so the caller need not clear them first.
    func split(
        _ p: UnsafePointer<UInt8>, _ n: Int, starts: UnsafeMutablePointer<Int>, ends: UnsafeMutablePointer<Int>,
        bases: UnsafeMutablePointer<UnsafePointer<UInt8>>, scratch: UnsafeMutablePointer<UInt8>
    ) -> Bool {
        guard n >= leadingCount, Self.same(p, bytes, leadingCount) else { return false }
        if hasRareFields { return splitRare(p, n, starts: starts, ends: ends, bases: bases, scratch: scratch) }
        var i = leadingCount
        var k = 0
        while k < fieldCount {
            let f = fields + k
            let start = i
            let end: Int
            if f.pointee.count == 0 {
                end = n
                i = n
            } else {
                guard let found = delimiter(f, needles[k], p, from: i, n) else { return false }
                end = found
                i = found &+ f.pointee.count
            }
            let slot = f.pointee.slot
            if slot >= 0 {
                bases[slot] = p
                starts[slot] = start
                ends[slot] = end
            }
            k &+= 1
        }
        return i == n
    }

    /// `split` for layouts with appended or padded fields.
    private func splitRare(
        _ p: UnsafePointer<UInt8>, _ n: Int, starts: UnsafeMutablePointer<Int>, ends: UnsafeMutablePointer<Int>,
        bases: UnsafeMutablePointer<UnsafePointer<UInt8>>, scratch: UnsafeMutablePointer<UInt8>
    ) -> Bool {
        var i = leadingCount
        var used = 0
        for k in 0..<fieldCount {
            let field = fields[k]
            let start = i
            let end: Int
            let count = field.count
            if count == 0 {
                end = n
                i = n
            } else {
                guard let found = delimiter(fields + k, needles[k], p, from: i, n) else { return false }
                end = found
                i = found + count
                if field.padded {
                    while i + count <= n, Self.same(p + i, field.delimiter, count) { i += count }
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
