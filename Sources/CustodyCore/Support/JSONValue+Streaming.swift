extension JSONValue {
    /// Writes exactly what `JSONValue.object(pairs).rendered()` writes (pretty), except that the
    /// member named `key` is an array of `count` objects made one at a time by `item`, and the
    /// text is handed to `emit` in pieces of about `chunk` bytes as it is made.
    ///
    /// A report can hold a finding for each of hundreds of thousands of users; as one value
    /// tree and then one string, each finding held about a kilobyte until the end
    /// (Benchmarks/RESULTS.md). Here only one finding's value and one piece of text live at once.
    public static func writePretty(
        object pairs: [(String, JSONValue)], streaming key: String, count: Int,
        item: (Int) -> [(String, JSONValue)], chunk: Int = 1 << 16,
        to emit: (String) -> Void
    ) {
        writePretty(
            object: pairs, streaming: key, count: count, writeItem: { JSONValue.object(item($0)).write(into: &$1, indent: 2) },
            chunk: chunk, to: emit)
    }

    /// `writePretty(object:streaming:count:item:chunk:to:)` with each item written by
    /// `writeItem(index, &text)` at depth two, as `JSONValue.write(into:indent:)` would.
    static func writePretty(
        object pairs: [(String, JSONValue)], streaming key: String, count: Int,
        writeItem: (Int, inout JSONText) -> Void, chunk: Int = 1 << 16,
        to emit: (String) -> Void
    ) {
        writePretty(
            object: pairs, streaming: key, count: count, window: 1,
            writeItems: { range, out in
                for j in range {
                    out.startItem(j)
                    writeItem(j, &out)
                }
            }, chunk: chunk, to: emit)
    }

    /// `writePretty(object:streaming:count:item:chunk:to:)` with the items written `window` at
    /// a time by `writeItems(range, &text)`: each item of the range after `text.startItem(index)`,
    /// at depth two, as `JSONValue.write(into:indent:)` would. (A window's items can then be
    /// written on several threads, each into its own text, and appended in order.)
    static func writePretty(
        object pairs: [(String, JSONValue)], streaming key: String, count: Int,
        window: Int, writeItems: (Range<Int>, inout JSONText) -> Void, chunk: Int = 1 << 16,
        to emit: (String) -> Void
    ) {
        var out = JSONText()
        if pairs.isEmpty {
            emit("{}")
            return
        }
        out.append("{")
        for (i, (name, value)) in pairs.enumerated() {
            if i > 0 { out.append(",") }
            out.newline(indent: 1)
            out.quote(name)
            out.append(": ")
            guard name == key else {
                value.write(into: &out, indent: 1)
                continue
            }
            // As `write` lays out an array of objects at depth one (never on one line).
            if count == 0 {
                out.append("[]")
                continue
            }
            out.append("[")
            for start in stride(from: 0, to: count, by: max(1, window)) {
                writeItems(start..<min(start + max(1, window), count), &out)
                if out.count >= chunk {
                    emit(out.string)
                    out.removeAll()
                }
            }
            out.newline(indent: 1)
            out.append("]")
        }
        out.newline(indent: 0)
        out.append("}")
        emit(out.string)
    }
}
