import Testing

@testable import CustodyIngest

/// The logfmt parser finds the end of a key and of a bare value sixteen bytes at a time: the
/// same index as a byte loop, for every stop byte at every position, near the line's end too.
@Suite("Logfmt key and value scans")
struct LogfmtScanTests {
    func byteLoop(_ bytes: [UInt8], from: Int, stops: Set<UInt8>) -> Int {
        var i = from
        while i < bytes.count, !stops.contains(bytes[i]) { i += 1 }
        return i
    }

    @Test func sameAsAByteLoop() {
        let keyStops: Set<UInt8> = [0x3D, 0x20, 0x09, 0x22]
        let valueStops: Set<UInt8> = [0x20, 0x09]
        for length in 0...40 {
            for stop in [UInt8(0x3D), 0x20, 0x09, 0x22, 0x41] {
                for at in 0...length {
                    var bytes = [UInt8](repeating: 0x61, count: length)
                    if at < length { bytes[at] = stop }
                    for from in [0, 1, 5, 17].filter({ $0 <= length }) {
                        bytes.withUnsafeBufferPointer { b in
                            let p = b.baseAddress ?? UnsafePointer(bitPattern: 1)!
                            #expect(
                                LogfmtParser.keyEnd(p, from: from, length) == byteLoop(bytes, from: from, stops: keyStops),
                                "length \(length) stop \(stop) at \(at) from \(from)")
                            #expect(
                                LogfmtParser.bareValueEnd(p, from: from, length) == byteLoop(bytes, from: from, stops: valueStops),
                                "length \(length) stop \(stop) at \(at) from \(from)")
                        }
                    }
                }
            }
        }
    }
}
