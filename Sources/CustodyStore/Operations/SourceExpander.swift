import CustodyCore
import CustodyIngest
import Foundation

/// Expands configured sources (files, directories, globs) into the files to read now.
enum SourceExpander {
    struct Input: Sendable {
        var path: String
        var format: LogFormat
        /// What `stat` said of the file when the sources were walked; nil when not known. The
        /// planner judges the file by it instead of a `stat` of its own.
        var status: FileIdentity.Status? = nil
    }

    /// The files to read, and the findings about the sources: a source that does not exist or
    /// holds no log file is an error (`input.missing_source`: an audit of nothing is no audit);
    /// special files and links leading out of every source are warnings (a glob's source is the
    /// directory it names).
    static func expand(_ sources: [CustodyConfiguration.Source]) -> (inputs: [Input], findings: [Finding]) {
        var seen = Set<String>()
        var inputs: [Input] = []
        var findings: [Finding] = []
        // Links may lead anywhere inside the configured sources, never out of them.
        let roots = sources.map { isPattern($0.path) ? fixedDirectory(of: $0.path) : $0.path }
        for source in sources {
            let pattern = isPattern(source.path)
            let paths = pattern ? glob(source.path) : [source.path]
            var found = 0
            var problem: String?
            for path in paths {
                do {
                    let gathered = try InputCollector.gather([path], roots: roots)
                    findings += gathered.findings
                    found += gathered.files.count
                    inputs.reserveCapacity(inputs.count + gathered.files.count)
                    for (i, file) in gathered.files.enumerated() where seen.insert(file).inserted {
                        let status = i < gathered.statuses.count ? FileIdentity.Status(gathered.statuses[i]) : nil
                        inputs.append(Input(path: file, format: source.format, status: status))
                    }
                } catch {
                    problem = "\(error)"
                }
            }
            if found == 0 {
                let why = problem ?? (paths.isEmpty ? "no file matches" : "holds no log file")
                findings.append(
                    Finding(
                        rule: .missingSource, severity: .error,
                        message: "source \(EscapedText.escape(source.path)): \(why)", file: source.path))
            }
        }
        return (inputs.sorted { $0.path < $1.path }, findings)
    }

    static func isPattern(_ path: String) -> Bool { path.contains { "*?[".contains($0) } }

    /// The leading directories of a glob that hold no pattern character (`logs/app` of
    /// `logs/app/*.log`).
    static func fixedDirectory(of pattern: String) -> String {
        var parts = pattern.split(separator: "/", omittingEmptySubsequences: false)
        if let first = parts.firstIndex(where: { isPattern(String($0)) }) { parts = Array(parts[..<first]) }
        let joined = parts.joined(separator: "/")
        return joined.isEmpty ? (pattern.hasPrefix("/") ? "/" : ".") : joined
    }

    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
            .filter { !($0 as NSString).lastPathComponent.hasPrefix(".") }
    }
}

#if canImport(Glibc)
import Glibc
#endif
