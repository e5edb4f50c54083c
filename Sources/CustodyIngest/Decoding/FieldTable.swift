import CustodyCore

/// The policy's candidate field names as bytes, for matching keys without building strings.
/// Each name maps to its field and its rank in the policy's list (lower wins).
struct FieldTable {
    enum Field: UInt8 { case timestamp, user, event }

    private var names: [[UInt8]] = []
    private var fields: [Field] = []
    private var ranks: [UInt8] = []

    init(_ names: Policy.FieldNames) {
        for (field, list) in [(Field.timestamp, names.timestamp), (.user, names.user), (.event, names.event)] {
            for (rank, name) in list.enumerated() {
                self.names.append(Array(name.utf8))
                fields.append(field)
                ranks.append(UInt8(min(rank, 254)))
            }
        }
    }

    @inline(__always)
    func match(_ key: UnsafeBufferPointer<UInt8>) -> (Field, UInt8)? {
        for i in 0..<names.count where names[i].count == key.count {
            let equal = names[i].withUnsafeBufferPointer { memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 }
            if equal { return (fields[i], ranks[i]) }
        }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
