/// `%XX` escapes, as request targets, query strings and cookies carry them.
enum PercentEncoding {
    /// The value of one hexadecimal digit (`0-9`, `a-f`, `A-F`), or nil.
    @inline(__always)
    static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }
}
