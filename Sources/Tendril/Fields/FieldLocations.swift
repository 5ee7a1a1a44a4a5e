/// Where each field's element starts in a loaded document (-1 when absent): one tail-allocated
/// object per document. A non-generic `ManagedBuffer` subclass, because allocating a generic
/// array looks its metadata up at run time, which showed up as a sixth of hydration's cost.
@usableFromInline
final class FieldLocations: ManagedBuffer<Int, Int32> {
    /// A buffer of `count` absent locations.
    static func make(count: Int) -> FieldLocations {
        let buffer = create(minimumCapacity: count) { _ in count }
        buffer.withUnsafeMutablePointerToElements { $0.initialize(repeating: -1, count: count) }
        // `create` returns the subclass instance it allocated.
        return unsafeDowncast(buffer, to: FieldLocations.self)
    }

    /// Read through the header's pointer: `ManagedBuffer.header` is a class `var`, checked for
    /// exclusive access at run time on every read.
    @inlinable
    var count: Int { withUnsafeMutablePointerToHeader { $0.pointee } }

    @inlinable
    subscript(slot: Int) -> Int32 {
        get { withUnsafeMutablePointerToElements { $0[slot] } }
        set { withUnsafeMutablePointerToElements { $0[slot] = newValue } }
    }

    func withUnsafeMutableBuffer<R>(_ body: (UnsafeMutableBufferPointer<Int32>) -> R) -> R {
        withUnsafeMutablePointerToElements { body(UnsafeMutableBufferPointer(start: $0, count: count)) }
    }
}

/// Where each field's element starts in a loaded document (-1 when absent), or nothing known
/// (after a save replaced the bytes: reads then look keys up). Up to 12 offsets below 65,535, the
/// common case, are packed into the value itself, so loading a document allocates nothing for
/// them; others live in a ``FieldLocations`` buffer.
@usableFromInline
enum ElementLocations {
    case unknown
    case packed(UInt64, UInt64, UInt64)
    case buffer(FieldLocations)

    /// As many lanes as the C walk packs (`PackedFieldOffsets`), so its words are stored as they are.
    @usableFromInline static var packedCapacity: Int { 12 }
    @usableFromInline static var absent: UInt64 { 0xFFFF }

    /// The offset of `slot`'s element: -1 when the field is absent, nil when unknown. Inlinable:
    /// every field read asks.
    @inlinable @inline(__always)
    func offset(of slot: Int) -> Int? {
        switch self {
        case .unknown:
            return nil
        case .packed(let first, let second, let third):
            guard slot >= 0, slot < Self.packedCapacity else { return nil }
            let word = slot < 4 ? first : (slot < 8 ? second : third)
            let value = (word >> UInt64((slot % 4) * 16)) & 0xFFFF
            return value == Self.absent ? -1 : Int(value)
        case .buffer(let buffer):
            guard slot >= 0, slot < buffer.count else { return nil }
            return Int(buffer[slot])
        }
    }

    /// The locations `offsets` hold (-1: absent), packed when they fit.
    init(_ offsets: UnsafeMutableBufferPointer<Int32>) {
        assert(Self.packedCapacity == PackedFieldOffsets.capacity, "the lanes the C walk packs")
        guard offsets.count <= Self.packedCapacity, offsets.allSatisfy({ $0 < Int32(Self.absent) }) else {
            let buffer = FieldLocations.make(count: offsets.count)
            buffer.withUnsafeMutableBuffer { copy in
                for index in offsets.indices { copy[index] = offsets[index] }
            }
            self = .buffer(buffer)
            return
        }
        // Four 16-bit lanes per word, set by shifts (as `offset(of:)` reads them, whatever the
        // byte order); absent lanes stay all ones.
        var words: (UInt64, UInt64, UInt64) = (~0, ~0, ~0)
        withUnsafeMutableBytes(of: &words) { raw in
            let lanes = raw.bindMemory(to: UInt64.self)
            for (slot, offset) in offsets.enumerated() where offset >= 0 {
                let shift = UInt64((slot % 4) * 16)
                lanes[slot / 4] = lanes[slot / 4] & ~(Self.absent << shift) | (UInt64(offset) << shift)
            }
        }
        self = .packed(words.0, words.1, words.2)
    }
}
