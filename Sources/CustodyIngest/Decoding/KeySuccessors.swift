/// Which key came after which in the lines seen so far, to check the next line's keys by
/// comparing two words instead of scanning and looking each one up.
///
/// Log lines of one file mostly repeat their keys in the same order. For each key (by a 6-bit
/// hash of its first word and length, plus one entry for "object start") the table keeps the
/// key that followed it last time: its bytes (up to 16, no quote or backslash), and what
/// `FieldTable` said about it. A prediction is used only when the line holds exactly those
/// bytes followed by the closing quote, so the walk learns what scanning would have told it.
/// Owns its memory: the owning parser calls `deallocate()`.
struct KeySuccessors {
    struct Guess {
        var low: UInt64 = 0
        var high: UInt64 = 0
        var lowMask: UInt64 = 0
        var highMask: UInt64 = 0
        /// 0 for no guess.
        var length = 0
        var field: (FieldTable.Field, UInt8)?
        /// This key's own entry.
        var index = 0
    }

    /// The entry for the first key of an object.
    static let objectStart = 64
    static let longestKey = 16

    private let entries: UnsafeMutablePointer<Guess>

    init() {
        entries = .allocate(capacity: Self.objectStart + 1)
        entries.initialize(repeating: Guess(), count: Self.objectStart + 1)
    }

    func deallocate() { entries.deallocate() }

    /// The key expected after `previous`, if the bytes at `key` are exactly it and its closing
    /// quote. `available` is how many bytes from `key` belong to the line.
    @inline(__always)
    func predict(after previous: Int, _ key: UnsafePointer<UInt8>, available: Int) -> Guess? {
        let guess = entries[previous]
        guard guess.length > 0, available > Self.longestKey else { return nil }
        let raw = UnsafeRawPointer(key)
        let low = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
        let high = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        guard low & guess.lowMask == guess.low, high & guess.highMask == guess.high, key[guess.length] == 0x22 else { return nil }
        return guess
    }

    /// Records that `key` (scanned, without its quotes) followed `previous`; returns its entry.
    @inline(__always)
    func learn(after previous: Int, _ key: UnsafeBufferPointer<UInt8>, escaped: Bool, field: (FieldTable.Field, UInt8)?) -> Int {
        let length = key.count
        let low = ByteScan.prefixWord(key)
        let index = Int(truncatingIfNeeded: ((low ^ UInt64(truncatingIfNeeded: length)) &* 0x9E37_79B9_7F4A_7C15) >> 58)
        guard !escaped, length > 0, length <= Self.longestKey else {
            entries[previous].length = 0
            return index
        }
        let high = length > 8 ? ByteScan.prefixWord(UnsafeBufferPointer(rebasing: key[8...])) : 0
        entries[previous] = Guess(low: low, high: high, lowMask: Self.mask(min(length, 8)), highMask: Self.mask(max(length - 8, 0)),
                                  length: length, field: field, index: index)
        return index
    }

    private static func mask(_ bytes: Int) -> UInt64 {
        bytes >= 8 ? ~0 : (1 << UInt64(8 * bytes)) - 1
    }
}
