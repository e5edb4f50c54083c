import ArgumentParser
import CustodyCore
import CustodyDisclosure
import Foundation

/// Helpers every command shares.
enum CLI {
    /// `--at`: an RFC 3339 time, or now.
    static func time(_ text: String?) throws -> Date {
        guard let text else { return Date() }
        guard let millis = TimestampParser.parse(text) else { throw DisclosureError("--at '\(text)' is not an RFC 3339 time with a zone") }
        return Date(timeIntervalSince1970: TimeInterval(millis) / 1000)
    }

    /// The text of a file named on the command line, or of stdin for `-`; and its name for messages.
    static func readInput(_ file: String) throws -> (text: String, source: String) {
        if file == "-" { return (String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self), "stdin") }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw DisclosureError("\(file): cannot read") }
        return (text, file)
    }

    /// Runs `body`, turning library errors into one line and exit status 2.
    static func guarded(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw CommandFailure.from(error)
        }
    }
}
