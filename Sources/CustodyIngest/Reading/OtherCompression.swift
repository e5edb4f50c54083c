/// Compressed formats Custody recognises by their magic bytes but does not read (only gzip is
/// decoded). Naming them turns "every line rejected" into a cause an operator can act on.
enum OtherCompression: String, CaseIterable {
    case zstd
    case bzip2
    case xz
    case lz4
    case zip

    /// How many first bytes `identify` needs.
    static let headLength = 10

    /// Whether a file starting with `head` is in this format. Every magic but bzip2's holds a
    /// byte that is not text; bzip2's "BZh" is text, so its block-size digit and the first
    /// block's magic (the digits of pi in BCD, "1AY&SY") are required too.
    func matches<C: Collection>(_ head: C) -> Bool where C.Element == UInt8 {
        switch self {
        case .zstd: return head.starts(with: [0x28, 0xB5, 0x2F, 0xFD])
        case .bzip2:
            let bytes = Array(head.prefix(10))
            return bytes.count == 10 && bytes.starts(with: Array("BZh".utf8)) && (0x31...0x39).contains(bytes[3])
                && bytes[4...].elementsEqual("1AY&SY".utf8)
        case .xz: return head.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00])
        case .lz4: return head.starts(with: [0x04, 0x22, 0x4D, 0x18])
        case .zip: return head.starts(with: [0x50, 0x4B, 0x03, 0x04])
        }
    }

    /// The command that turns such a file into something Custody reads.
    private var decompress: String {
        switch self {
        case .zstd: return "zstd -dc FILE | gzip"
        case .bzip2: return "bzip2 -dc FILE | gzip"
        case .xz: return "xz -dc FILE | gzip"
        case .lz4: return "lz4 -dc FILE | gzip"
        case .zip: return "unzip the archive"
        }
    }

    /// One line for the user.
    var unsupported: String {
        "compressed with \(rawValue), which Custody does not read (only gzip): \(decompress) first"
    }

    /// The format whose magic bytes `head` starts with, if any.
    static func identify<C: Collection>(_ head: C) -> OtherCompression? where C.Element == UInt8 {
        allCases.first { $0.matches(head) }
    }
}
