import CustodyCore
import Foundation

/// One verification from the system of record (the user database): this user verified their
/// real identity at this time by this method.
public struct RegistryVerification: Sendable, Equatable, Hashable {
    public var user: String
    /// Unix milliseconds.
    public var verifiedAt: Int64
    public var method: String

    public init(user: String, verifiedAt: Int64, method: String) {
        self.user = user
        self.verifiedAt = verifiedAt
        self.method = method
    }
}

/// A registry export that cannot be used: names the file and line. Nothing is imported.
public struct RegistryFileError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var message: String

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(message); nothing imported"
    }
}

/// Reads a registry export: CSV with a header naming the columns `user`, `verified_at` and
/// `method` (any order, other columns ignored), or JSON lines with those members. `verified_at`
/// is an RFC 3339 time with a zone, or a Unix epoch number (seconds, milli-, micro- or
/// nanoseconds, told by its size). All or nothing: the first bad row is an error naming its line.
public enum RegistryFile {
    public static let columns = ["user", "verified_at", "method"]

    public static func load(path: String) throws(RegistryFileError) -> [RegistryVerification] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RegistryFileError(file: path, line: nil, message: "cannot read the registry file")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    public static func parse(_ text: String, file: String) throws(RegistryFileError) -> [RegistryVerification] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = first.dropFirst() }
        guard let firstIndex = lines.firstIndex(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            throw RegistryFileError(file: file, line: nil, message: "the file holds no rows")
        }
        var result: [RegistryVerification] = []
        if lines[firstIndex].trimmingCharacters(in: .whitespaces).hasPrefix("{") {
            for (index, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                let number = index + 1
                guard let json = JSONValue.parse(String(line)), case .object(let members) = json else {
                    throw RegistryFileError(file: file, line: number, message: "not a JSON object")
                }
                let keys = members.map(\.0)
                if Set(keys).count != keys.count {
                    throw RegistryFileError(file: file, line: number, message: "a member appears twice (ambiguous)")
                }
                var values: [String] = []
                for column in columns {
                    switch json[column] {
                    case .string(let s)?: values.append(s)
                    case .int(let i)?: values.append(String(i))
                    default: throw RegistryFileError(file: file, line: number, message: "'\(column)' is missing or not a string")
                    }
                }
                result.append(try row(values, file: file, line: number))
            }
        } else {
            let header = cells(lines[firstIndex])
            guard let header else { throw RegistryFileError(file: file, line: firstIndex + 1, message: "unclosed quote in the header") }
            var positions: [Int] = []
            for column in columns {
                let matches = header.indices.filter { header[$0].trimmingCharacters(in: .whitespaces) == column }
                guard matches.count == 1 else {
                    throw RegistryFileError(
                        file: file, line: firstIndex + 1,
                        message:
                            "the header must name each of \(columns.joined(separator: ", ")) once (it names \(header.joined(separator: ", ")))"
                    )
                }
                positions.append(matches[0])
            }
            for index in (firstIndex + 1)..<lines.count where !lines[index].trimmingCharacters(in: .whitespaces).isEmpty {
                guard let row = cells(lines[index]), row.count == header.count else {
                    throw RegistryFileError(file: file, line: index + 1, message: "expected \(header.count) columns as in the header")
                }
                result.append(try self.row(positions.map { row[$0] }, file: file, line: index + 1))
            }
        }
        return result
    }

    private static func row(_ values: [String], file: String, line: Int) throws(RegistryFileError) -> RegistryVerification {
        let user = values[0]
        let time = values[1].trimmingCharacters(in: .whitespaces)
        let method = values[2].trimmingCharacters(in: .whitespaces)
        guard !user.isEmpty else { throw RegistryFileError(file: file, line: line, message: "empty user") }
        guard let millis = TimestampParser.parse(time), !time.contains("/") else {
            throw RegistryFileError(
                file: file, line: line, message: "verified_at '\(time)' is not an RFC 3339 time with a zone or a Unix epoch number")
        }
        guard !method.isEmpty else { throw RegistryFileError(file: file, line: line, message: "empty method") }
        // Ids are compared as the logs' ids are kept: `EscapedText`, so an id holding a `\` or a
        // control character names the same user in the registry as in the logs.
        return RegistryVerification(user: EscapedText.escape(user), verifiedAt: millis, method: method)
    }

    /// The cells of one CSV line (RFC 4180 quotes); nil when a quote is not closed.
    static func cells(_ line: Substring) -> [String]? {
        var result: [String] = []
        var current = ""
        var quoted = false
        var chars = Array(line)
        var i = 0
        if chars.isEmpty { chars = [] }
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count, chars[i + 1] == "\"" {
                        current.append("\"")
                        i += 2
                        continue
                    }
                    quoted = false
                } else {
                    current.append(c)
                }
            } else if c == "\"" && current.isEmpty {
                quoted = true
            } else if c == "," {
                result.append(current)
                current = ""
            } else {
                current.append(c)
            }
            i += 1
        }
        guard !quoted else { return nil }
        result.append(current)
        return result
    }

    /// The registry's verifications as one file's activity for the real-name rule: each user's
    /// earliest verification by an accepted method, exactly as a verification event at that time.
    public static func activities(_ rows: [RegistryVerification], policy: Policy) -> [UserFileActivity] {
        let accepted = Set(policy.realName.acceptedMethods)
        var earliest: [String: Int64] = [:]
        for row in rows where accepted.contains(row.method) {
            earliest[row.user] = min(earliest[row.user] ?? .max, row.verifiedAt)
        }
        return earliest.sorted { $0.key < $1.key }.map {
            UserFileActivity(user: $0.key, verifiedAt: $0.value, pending: PendingPublishes(), firstPending: nil)
        }
    }
}
