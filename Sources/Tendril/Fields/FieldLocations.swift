/// Where each field's element starts in a loaded document (-1 when absent): one tail-allocated
/// object per document. A non-generic `ManagedBuffer` subclass, because allocating a generic
/// array looks its metadata up at run time, which showed up as a sixth of hydration's cost.
final class FieldLocations: ManagedBuffer<Int, Int32> {
    /// A buffer of `count` absent locations.
    static func make(count: Int) -> FieldLocations {
        let buffer = create(minimumCapacity: count) { _ in count }
        buffer.withUnsafeMutablePointerToElements { $0.initialize(repeating: -1, count: count) }
        // `create` returns the subclass instance it allocated.
        return unsafeDowncast(buffer, to: FieldLocations.self)
    }

    var count: Int { header }

    subscript(slot: Int) -> Int32 {
        get { withUnsafeMutablePointerToElements { $0[slot] } }
        set { withUnsafeMutablePointerToElements { $0[slot] = newValue } }
    }

    func withUnsafeMutableBuffer<R>(_ body: (UnsafeMutableBufferPointer<Int32>) -> R) -> R {
        withUnsafeMutablePointerToElements { body(UnsafeMutableBufferPointer(start: $0, count: header)) }
    }
}
