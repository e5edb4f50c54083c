import Foundation
import Yams

/// A YAML mapping read strictly: every key must be known, every value of the expected type, and
/// every failure is a `ConfigurationError` naming the file, line and dotted key.
///
/// Shared by policy files and `custody.yaml` so both are validated the same way.
public struct YAMLMapping {
    public let file: String
    public let keyPath: String
    public let line: Int?
    private let pairs: [(key: String, keyLine: Int?, value: Node)]

    /// Reads a YAML file's text, or fails with one line naming the file and the reason.
    public static func readText(_ path: String, what: String, hint: String? = nil) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            // Foundation's message here is generic; errno says what happened.
            var isDirectory: ObjCBool = false
            let reason =
                access(path, R_OK) != 0
                ? String(cString: strerror(errno)).lowercased()
                : FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
                    ? "it is a directory"
                    : "not UTF-8 text"
            throw ConfigurationError(
                file: path, line: nil, key: nil,
                message: "cannot read \(what) (\(reason))\(hint.map { "; \($0)" } ?? "")")
        }
    }

    /// Parses a whole document whose root must be a mapping.
    ///
    /// No implicit tags are resolved (`Resolver.basic`): every typed read below converts the
    /// text itself, and `bool` (Yams' `Bool.construct`) refuses only scalars tagged as strings,
    /// which quoted ones still are, so it answers as before. Yams' default resolver compiles
    /// seven regular expressions (through ICU) the first time it is used, which took ~2 ms of
    /// every command's start (uprobes on `custody check`), and its default constructor builds
    /// tables nothing here reads.
    public static func parseDocument(_ text: String, file: String) throws -> YAMLMapping {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, .basic, Constructor([:], [:], [:]))
        } catch let error as YamlError {
            throw ConfigurationError(
                file: file, line: Self.line(of: error), key: nil, message: "not valid YAML: \(Self.problem(of: error))")
        }
        guard let root else { throw ConfigurationError(file: file, line: 1, key: nil, message: "the file is empty") }
        return try YAMLMapping(node: root, file: file, keyPath: "")
    }

    public init(node: Node, file: String, keyPath: String) throws {
        self.file = file
        self.keyPath = keyPath
        self.line = node.mark?.line
        guard case .mapping(let mapping) = node else {
            throw ConfigurationError(
                file: file, line: node.mark?.line, key: keyPath.isEmpty ? nil : keyPath,
                message: "expected a mapping of keys to values")
        }
        var seen = Set<String>()
        var pairs: [(String, Int?, Node)] = []
        for (k, v) in mapping {
            guard case .scalar(let scalar) = k else {
                throw ConfigurationError(
                    file: file, line: k.mark?.line, key: keyPath.isEmpty ? nil : keyPath, message: "keys must be plain strings")
            }
            let name = scalar.string
            if !seen.insert(name).inserted {
                throw ConfigurationError(file: file, line: k.mark?.line, key: Self.join(keyPath, name), message: "duplicate key")
            }
            pairs.append((name, k.mark?.line, v))
        }
        self.pairs = pairs
    }

    public var keys: [String] { pairs.map(\.key) }

    /// Refuses any key not in `allowed`, naming the first unknown one and the keys that are known.
    public func requireKnownKeys(_ allowed: [String]) throws {
        for pair in pairs where !allowed.contains(pair.key) {
            throw ConfigurationError(
                file: file, line: pair.keyLine, key: qualified(pair.key),
                message: "unknown key (known keys here: \(allowed.joined(separator: ", ")))")
        }
    }

    public func contains(_ key: String) -> Bool { pairs.contains { $0.key == key } }

    public func node(_ key: String) -> Node? { pairs.first { $0.key == key }?.value }

    public func qualified(_ key: String) -> String { Self.join(keyPath, key) }

    public func error(_ key: String, _ message: String) -> ConfigurationError {
        let entry = pairs.first { $0.key == key }
        return ConfigurationError(
            file: file, line: entry?.value.mark?.line ?? entry?.keyLine ?? line, key: qualified(key), message: message)
    }

    public func missing(_ key: String) -> ConfigurationError {
        ConfigurationError(file: file, line: line, key: qualified(key), message: "required key is missing")
    }

    // MARK: typed values

    public func string(_ key: String) throws -> String? {
        guard let value = node(key) else { return nil }
        guard case .scalar(let scalar) = value, !Self.isNull(scalar) else { throw error(key, "expected a string") }
        return scalar.string
    }

    public func requiredString(_ key: String) throws -> String {
        guard let value = try string(key) else { throw missing(key) }
        guard !value.isEmpty else { throw error(key, "must not be empty") }
        return value
    }

    public func int(_ key: String) throws -> Int? {
        guard let value = node(key) else { return nil }
        guard case .scalar(let scalar) = value, let int = Int(scalar.string) else { throw error(key, "expected a whole number") }
        return int
    }

    /// A finite decimal number (`0.001`, `1e-3`, `0`).
    public func number(_ key: String) throws -> Double? {
        guard let value = node(key) else { return nil }
        guard case .scalar(let scalar) = value, let number = Double(scalar.string), number.isFinite else {
            throw error(key, "expected a number")
        }
        return number
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let value = node(key) else { return nil }
        guard case .scalar = value, let bool = value.bool else { throw error(key, "expected true or false") }
        return bool
    }

    public func stringList(_ key: String) throws -> [String]? {
        guard let value = node(key) else { return nil }
        guard case .sequence(let sequence) = value else { throw error(key, "expected a list of strings") }
        var result: [String] = []
        for item in sequence {
            guard case .scalar(let scalar) = item, !Self.isNull(scalar), !scalar.string.isEmpty else {
                throw ConfigurationError(
                    file: file, line: item.mark?.line, key: qualified(key), message: "expected a list of non-empty strings")
            }
            result.append(scalar.string)
        }
        return result
    }

    /// A mapping of string keys to string values, in file order.
    public func stringPairs(_ key: String) throws -> [(String, String)]? {
        guard let value = node(key) else { return nil }
        let nested = try YAMLMapping(node: value, file: file, keyPath: qualified(key))
        return try nested.keys.map { k in
            guard let v = try nested.string(k), !v.isEmpty else { throw nested.error(k, "expected a non-empty string") }
            return (k, v)
        }
    }

    public func mapping(_ key: String) throws -> YAMLMapping? {
        guard let value = node(key) else { return nil }
        return try YAMLMapping(node: value, file: file, keyPath: qualified(key))
    }

    public func mappingList(_ key: String) throws -> [YAMLMapping]? {
        guard let value = node(key) else { return nil }
        guard case .sequence(let sequence) = value else { throw error(key, "expected a list") }
        return try sequence.enumerated().map { index, item in
            try YAMLMapping(node: item, file: file, keyPath: "\(qualified(key))[\(index)]")
        }
    }

    // MARK: helpers

    static func isNull(_ scalar: Node.Scalar) -> Bool {
        scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        // The first of the duplicated keys.
        case .duplicatedKeysInMapping(_, let context): return context.mark.line
        default: return nil
        }
    }

    static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): return problem
        case .duplicatedKeysInMapping(let duplicates, _): return "duplicate key \(duplicates.joined(separator: ", "))"
        default: return "\(error)"
        }
    }
}
