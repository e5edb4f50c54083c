/// Which key came after which in the lines seen so far, to check the next line's keys by
/// comparing two words instead of scanning and looking each one up.
///
/// Log lines of one file mostly repeat their keys in the same order. For each key (by a 6-bit
/// hash of its first word and length, plus one entry for "object start") the table keeps the
/// key that followed it last time: its bytes (up to 16, no quote or backslash), and what
/// `FieldTable` said about it. A prediction is used only when the line holds exactly those
/// bytes followed by the closing quote, so the walk learns what scanning would have told it.
/// When the colon followed the quote directly and both fit in the 16 bytes, they are part of
/// the compared words, and the walk continues after the colon without looking for it.
/// Owns its memory: the owning parser calls `deallocate()`.
struct KeySuccessors {
    struct Guess {
        var low: UInt64 = 0
        var high: UInt64 = 0
        var lowMask: UInt64 = 0
        var highMask: UInt64 = 0
        /// 0 for no guess.
        var length = 0
        /// The words hold the key's closing quote and a colon after it (the key was followed
        /// directly by its colon, and both fit in the 16 bytes compared).
        var throughColon = false
        var field: (FieldTable.Field, UInt8)?
        /// This key's own entry.
        var index = 0
    }

    /// The entry for the first key of an object.
    static let objectStart = 64
    static let longestKey = 16

    private let entries: UnsafeMutablePointer<Guess>
    /// Lines on which more keys were learnt than predicted back off (`ShortcutBackoff`): in a
    /// file whose keys come in a different order on every line, every key was mispredicted and
    /// learnt, a cost on top of scanning it. Behind a pointer: the walk that uses it does not
    /// mutate its parser.
    private let backoff: UnsafeMutablePointer<ShortcutBackoff>

    init() {
        entries = .allocate(capacity: Self.objectStart + 1)
        entries.initialize(repeating: Guess(), count: Self.objectStart + 1)
        backoff = .allocate(capacity: 1)
        backoff.initialize(to: ShortcutBackoff())
    }

    func deallocate() {
        entries.deallocate()
        backoff.deallocate()
    }

    /// Whether to predict the keys of the next line (false while paused; counts the pause down).
    @inline(__always)
    func startLine() -> Bool {
        guard backoff.pointee.isPaused else { return true }
        backoff.pointee.skipped()
        return false
    }

    /// After a line walked with predictions: `predicted` keys were, `learnt` were not. A line
    /// with more learnt than predicted is a failure of the predictions (`ShortcutBackoff`).
    @inline(__always)
    func endLine(predicted: Int, learnt: Int) {
        if learnt > predicted { backoff.pointee.failed() } else { backoff.pointee.succeeded() }
    }

    /// Lines still to walk without predicting (for tests).
    var pausedLines: Int { backoff.pointee.paused }

    /// The key expected after `previous`, if the bytes at `key` are exactly it and its closing
    /// quote. `available` is how many bytes from `key` belong to the line.
    ///
    /// Points into the table rather than returning a copy: a `Guess` is seven words, and copying
    /// it for every key of every line was a tenth of the walk's instructions.
    @inline(__always)
    func predict(after previous: Int, _ key: UnsafePointer<UInt8>, available: Int) -> UnsafePointer<Guess>? {
        let guess = entries + previous
        guard guess.pointee.length > 0, available > Self.longestKey else { return nil }
        let raw = UnsafeRawPointer(key)
        let low = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
        let high = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        guard low & guess.pointee.lowMask == guess.pointee.low, high & guess.pointee.highMask == guess.pointee.high else { return nil }
        guard guess.pointee.throughColon || key[guess.pointee.length] == 0x22 else { return nil }
        return UnsafePointer(guess)
    }

    /// Records that `key` (scanned, without its quotes) followed `previous`; returns its entry.
    /// `colonFollows`: the line has the colon right after the key's closing quote (`"key":`).
    @inline(__always)
    func learn(
        after previous: Int, _ key: UnsafeBufferPointer<UInt8>, escaped: Bool, field: (FieldTable.Field, UInt8)?,
        colonFollows: Bool
    ) -> Int {
        let length = key.count
        let index = Int(
            truncatingIfNeeded: ((ByteScan.prefixWord(key) ^ UInt64(truncatingIfNeeded: length)) &* 0x9E37_79B9_7F4A_7C15) >> 58)
        guard !escaped, length > 0, length <= Self.longestKey, let base = key.baseAddress else {
            entries[previous].length = 0
            return index
        }
        // The quote and colon after the key are in the line too, so they can join the words.
        let throughColon = colonFollows && length + 2 <= Self.longestKey
        let compared = UnsafeBufferPointer(start: base, count: throughColon ? length + 2 : length)
        let low = ByteScan.prefixWord(compared)
        let high = compared.count > 8 ? ByteScan.prefixWord(UnsafeBufferPointer(rebasing: compared[8...])) : 0
        entries[previous] = Guess(
            low: low, high: high, lowMask: Self.mask(min(compared.count, 8)),
            highMask: Self.mask(max(compared.count - 8, 0)),
            length: length, throughColon: throughColon, field: field, index: index)
        return index
    }

    private static func mask(_ bytes: Int) -> UInt64 {
        bytes >= 8 ? ~0 : (1 << UInt64(8 * bytes)) - 1
    }
}
