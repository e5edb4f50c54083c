/// Markdown text from untrusted strings (authority names, legal bases, provider names): what
/// would make Markdown (or the HTML a site generator lets through) is escaped, and a newline
/// cannot break a table row or start a heading.
enum Markdown {
    /// Inline text: `\`, `<`, `>`, `[`, `]`, `` ` ``, `|`, `*` and `_` escaped; newlines become spaces;
    /// a `#` that would start a line is escaped.
    static func inline(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "\\", "<", ">", "[", "]", "`", "|", "*", "_":
                out.append("\\")
                out.append(c)
            case "\n", "\r", "\r\n": out.append(" ")
            default: out.append(c)
            }
        }
        if out.hasPrefix("#") { out = "\\" + out }
        return out
    }

    /// A paragraph of several lines: each line escaped as inline text.
    static func paragraph(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { inline(String($0)) }.joined(separator: "\n")
    }

    /// A table with a header row; numeric columns (from `numericFrom`) aligned right.
    static func table(_ headers: [String], _ rows: [[String]], numericFrom: Int = 1) -> String {
        var t = "| " + headers.map(inline).joined(separator: " | ") + " |\n"
        t += "|" + headers.indices.map { $0 < numericFrom ? "---" : "---:" }.joined(separator: "|") + "|\n"
        if rows.isEmpty { t += "| None in this period |" + String(repeating: " |", count: headers.count - 1) + "\n" }
        for row in rows { t += "| " + row.map(inline).joined(separator: " | ") + " |\n" }
        return t
    }
}
