/// An immutable table from object addresses (key paths, class metadata) to integers, open-
/// addressed and probed without hashing: read on hot paths, rebuilt and republished when an entry
/// is added. Callers keep the keyed objects alive (or they are immortal), so an address found is
/// its object.
@usableFromInline
final class AddressTable: @unchecked Sendable {
    @usableFromInline let addresses: [UInt]
    @usableFromInline let values: [Int]
    @usableFromInline let mask: Int

    init(_ entries: [(ObjectIdentifier, Int)]) {
        var capacity = 8
        while capacity < entries.count * 2 { capacity *= 2 }
        var addresses = [UInt](repeating: 0, count: capacity)
        var values = [Int](repeating: 0, count: capacity)
        for (identity, value) in entries {
            var index = Self.start(UInt(bitPattern: identity), capacity - 1)
            while addresses[index] != 0 { index = (index + 1) & (capacity - 1) }
            addresses[index] = UInt(bitPattern: identity)
            values[index] = value
        }
        self.addresses = addresses
        self.values = values
        self.mask = capacity - 1
    }

    @inlinable
    static func start(_ address: UInt, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (address >> 4) ^ (address >> 12)) & mask
    }

    /// The value recorded for the object at `identity`, or nil.
    @inlinable @inline(__always)
    func value(for identity: ObjectIdentifier) -> Int? {
        let address = UInt(bitPattern: identity)
        var index = Self.start(address, mask)
        while true {
            let candidate = addresses[index]
            if candidate == address { return values[index] }
            if candidate == 0 { return nil }
            index = (index + 1) & mask
        }
    }
}
