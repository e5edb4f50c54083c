import CustodyIngest
import Foundation

/// Expands configured sources (files, directories, globs) into the files to read now.
enum SourceExpander {
    struct Input: Sendable {
        var path: String
        var format: LogFormat
    }

    /// Missing sources are reported through `warn` and skipped: an app may not have logged yet.
    static func expand(_ sources: [CustodyConfiguration.Source], warn: (String) -> Void) -> [Input] {
        var seen = Set<String>()
        var inputs: [Input] = []
        for source in sources {
            let paths = isPattern(source.path) ? glob(source.path) : [source.path]
            if paths.isEmpty { warn("\(source.path): no file matches"); continue }
            for path in paths {
                do {
                    for file in try InputCollector.collect([path]) where seen.insert(file).inserted {
                        inputs.append(Input(path: file, format: source.format))
                    }
                } catch {
                    warn("\(error)")
                }
            }
        }
        return inputs.sorted { $0.path < $1.path }
    }

    static func isPattern(_ path: String) -> Bool { path.contains { "*?[".contains($0) } }

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
