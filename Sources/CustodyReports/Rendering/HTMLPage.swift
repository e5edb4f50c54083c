import Foundation

/// A single self-contained HTML page: inline CSS, inline SVG charts, no scripts, no network
/// resources; readable on a phone and in print; tables with headers, charts with titles and
/// text alternatives.
struct HTMLPage {
    var title: String
    private var body = ""

    init(title: String) { self.title = title }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    mutating func raw(_ html: String) { body += html + "\n" }
    mutating func heading(_ text: String, level: Int = 2) { raw("<h\(level)>\(Self.escape(text))</h\(level)>") }
    mutating func paragraph(_ text: String, className: String? = nil) {
        raw("<p\(className.map { " class=\"\($0)\"" } ?? "")>\(Self.escape(text))</p>")
    }

    /// A table with a caption, column headers and row headers (first column).
    mutating func table(caption: String, headers: [String], rows: [[String]], numericFrom: Int = 1) {
        var t = "<div class=\"scroll\"><table>\n<caption>\(Self.escape(caption))</caption>\n<thead><tr>"
        for h in headers { t += "<th scope=\"col\">\(Self.escape(h))</th>" }
        t += "</tr></thead>\n<tbody>\n"
        if rows.isEmpty { t += "<tr><td colspan=\"\(headers.count)\">None in this period.</td></tr>\n" }
        for row in rows {
            t += "<tr>"
            for (i, cell) in row.enumerated() {
                if i == 0 {
                    t += "<th scope=\"row\">\(Self.escape(cell))</th>"
                } else {
                    t += "<td\(i >= numericFrom ? " class=\"num\"" : "")>\(Self.escape(cell))</td>"
                }
            }
            t += "</tr>\n"
        }
        raw(t + "</tbody></table></div>")
    }

    /// A horizontal bar chart with a title and a text alternative listing every value. Labels sit
    /// above their bars so long names stay readable on a phone.
    mutating func barChart(title: String, bars: [(label: String, value: Int)]) {
        guard !bars.isEmpty else { return }
        let maxValue = max(1, bars.map(\.value).max() ?? 1)
        let rowHeight = 50
        let height = bars.count * rowHeight + 6
        let alternative = bars.map { "\($0.label): \($0.value)" }.joined(separator: "; ")
        let id = Self.id(title)
        var svg =
            "<figure><svg role=\"img\" aria-labelledby=\"t\(id) d\(id)\" viewBox=\"0 0 640 \(height)\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\">"
        svg += "<title id=\"t\(id)\">\(Self.escape(title))</title><desc id=\"d\(id)\">\(Self.escape(alternative))</desc>"
        for (i, bar) in bars.enumerated() {
            let y = i * rowHeight
            let width = Int((Double(bar.value) / Double(maxValue)) * 540)
            svg += "<text x=\"0\" y=\"\(y + 20)\" class=\"label\">\(Self.escape(String(bar.label.prefix(48))))</text>"
            svg += "<rect x=\"0\" y=\"\(y + 27)\" width=\"\(max(width, bar.value > 0 ? 2 : 0))\" height=\"16\" class=\"bar\"/>"
            svg += "<text x=\"\(width + 8)\" y=\"\(y + 41)\" class=\"value\">\(bar.value)</text>"
        }
        svg += "</svg><figcaption>\(Self.escape(title))</figcaption></figure>"
        raw(svg)
    }

    private static func id(_ s: String) -> String {
        String(s.unicodeScalars.map { isASCIIAlphanumeric($0) ? Character($0) : "-" }).lowercased()
    }

    func render() -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Self.escape(title))</title>
        <style>
        :root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --bar: #1f6feb; --bg-alt: #f6f8fa; }
        body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans", "PingFang SC", sans-serif; color: var(--ink); margin: 0 auto; max-width: 84rem; padding: 1rem; }
        p, ul.summary, dl, figure { max-width: 60rem; }
        h1 { font-size: 1.6rem; margin: .5rem 0; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid var(--line); }
        p.meta, figcaption, caption { color: var(--muted); font-size: .9rem; }
        caption { text-align: left; caption-side: top; padding: .25rem 0; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
        th, td { border: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
        thead th { background: var(--bg-alt); }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        .summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: .5rem; padding: 0; list-style: none; }
        .summary li { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; }
        .summary strong { display: block; font-size: 1.4rem; }
        figure { margin: 1rem 0; max-width: 40rem; } svg text { font: 16px system-ui, sans-serif; fill: var(--ink); } svg .bar { fill: var(--bar); }
        @media (max-width: 40rem) { svg text { font-size: 24px; } }
        .note { border-left: 4px solid var(--bar); padding: .25rem .75rem; background: var(--bg-alt); }
        .banner { border: 2px solid #9a6700; background: #fff8c5; padding: .5rem .75rem; }
        dt { font-weight: 600; margin-top: .5rem; } dd { margin-left: 1rem; }
        code { font-size: .85rem; word-break: break-all; }
        table { font-size: .85rem; } thead th { vertical-align: bottom; hyphens: auto; }
        th, td { padding: .3rem .4rem; }
        tbody tr:nth-child(even) { background: #fbfcfd; }
        /* Print: wide tables shrink to the page instead of scrolling (a scrollbar would be printed
           and the last columns lost); long tables break between rows and repeat their header. */
        @page { size: A4 landscape; margin: 12mm; }
        @media print {
          body { max-width: none; padding: 0; font-size: 10pt; }
          h2 { break-after: avoid; } figure { break-inside: avoid; } svg .bar { fill: #555; }
          .scroll { overflow: visible; }
          table { width: 100%; font-size: 7.5pt; table-layout: auto; }
          th, td { padding: 1px 3px; }
          thead { display: table-header-group; } tr { break-inside: avoid; }
        }
        </style>
        </head>
        <body>
        <main>
        <h1>\(Self.escape(title))</h1>
        \(body)</main>
        </body>
        </html>

        """
    }
}

private func isASCIIAlphanumeric(_ s: Unicode.Scalar) -> Bool {
    (s.value >= 0x30 && s.value <= 0x39) || (s.value >= 0x41 && s.value <= 0x5A) || (s.value >= 0x61 && s.value <= 0x7A)
}

/// CSV with quoting where needed (RFC 4180), CRLF line ends as spreadsheet tools expect.
enum CSV {
    static func field(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func render(_ rows: [[String]]) -> String {
        rows.map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }
}
