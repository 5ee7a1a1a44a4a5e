import Foundation
import Synchronization

// Documents shared across tasks (issue 14, item 6).
//
// A document a reference cache hands out may be read from several tasks while one of them
// changes, saves or reloads it. Reads go through the stored bytes' address without retaining
// them, so a change made in place could free the bytes under a reader, or show it a storage half
// changed. So a shared document never changes its fields in place:
//
// - Until a reference cache hands it out, a document keeps its fields inline and changes them in
//   place (one task at a time): reads cost one extra load and branch.
// - Once shared (``FieldContainer/markShared()``), its inline fields are frozen. Each change builds
//   a new ``FieldState`` and publishes it with one atomic exchange of the document's word.
// - Every read of a shared document is counted (``SharedReads``). A writer frees the state it
//   replaced only once every read that may have loaded it has finished (two grace periods), so a
//   reader sees the old state or the new one, never freed memory; memory stays bounded (no state
//   outlives its replacement by more than the reads under way).

/// The word a ``FieldContainer`` keeps its schema and its fields' whereabouts in: a document costs
/// no more for being shareable.
/// - 0: nothing recorded yet (the schema is looked up on first use);
/// - a ``Schema``'s address: not shared, the fields are in `inlineFields`;
/// - that address + ``sharedInline``: shared, the fields are in `inlineFields`, frozen;
/// - a ``FieldState``'s address + ``sharedPublished``: shared, the fields are in that state, which
///   the word retains.
@usableFromInline
enum FieldsWord {
    /// The tag of a shared instance whose fields are still inline.
    @usableFromInline static let sharedInline: UInt = 0b01
    /// The tag of a shared instance whose fields are in a published state.
    @usableFromInline static let sharedPublished: UInt = 0b11
    @usableFromInline static let tagMask: UInt = 0b11

    @inlinable
    static func isShared(_ word: UInt) -> Bool { word & sharedInline != 0 }

    /// The schema the word holds: nil when none is recorded, or the word holds a state.
    @inlinable
    static func schema(in word: UInt) -> Unmanaged<Schema>? {
        guard word & tagMask != sharedPublished, let address = UnsafeRawPointer(bitPattern: word & ~tagMask) else { return nil }
        return Unmanaged<Schema>.fromOpaque(address)
    }

    /// The published state the word holds, if it holds one.
    @inlinable
    static func state(in word: UInt) -> Unmanaged<FieldState>? {
        guard word & tagMask == sharedPublished, let address = UnsafeRawPointer(bitPattern: word & ~tagMask) else { return nil }
        return Unmanaged<FieldState>.fromOpaque(address)
    }

    static func word(for schema: Schema) -> UInt {
        UInt(bitPattern: Unmanaged.passUnretained(schema).toOpaque())
    }
}

/// One published state of a shared container's fields: never changed once published.
@usableFromInline
final class FieldState {
    @usableFromInline let storage: FieldStorage

    init(_ storage: FieldStorage) { self.storage = storage }
}

/// The count of reads of shared documents under way, process-wide, in two generations (the
/// epoch's parity), each spread over stripes so that readers on different threads do not contend
/// for one cache line; and the lock writers of shared documents take.
///
/// A writer publishes a new state, then waits out two grace periods: it advances the epoch and
/// waits until the previous generation's count is zero, twice. A read that loaded the replaced
/// state incremented one of the two generations' counts before the exchange, so it has finished
/// when the writer frees the state; reads that start meanwhile count in the other generation, so
/// the wait ends even while reads keep coming.
@usableFromInline
enum SharedReads {
    /// A cache line of its own for one stripe's count.
    private final class Stripe: Sendable {
        let count = Atomic<Int>(0)
        private let padding: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    }

    private static let stripesPerGeneration = 16
    private static let epoch = Atomic<Int>(0)
    private static let stripes = (0..<(2 * stripesPerGeneration)).map { _ in Stripe() }
    /// Serialises writers of shared documents: a write copies the state published last, changes
    /// the copy and publishes it, so two writers do not lose each other's change.
    @usableFromInline static let writers = NSRecursiveLock()

    /// Starts a counted read; pass what it returns to ``exit(_:)``.
    @usableFromInline
    static func enter() -> Int {
        let generation = epoch.load(ordering: .sequentiallyConsistent) & 1
        let stripe = generation * stripesPerGeneration + Int(truncatingIfNeeded: (UInt(pthread_self()) &* 0x9E37_79B9_7F4A_7C15) >> 60)
        stripes[stripe].count.wrappingAdd(1, ordering: .sequentiallyConsistent)
        return stripe
    }

    /// Ends the counted read `enter()` started.
    @usableFromInline
    static func exit(_ stripe: Int) {
        stripes[stripe].count.wrappingSubtract(1, ordering: .releasing)
    }

    /// Returns once every read that started before the call has finished. Called by writers,
    /// under ``writers``, after publishing a state and before freeing the one it replaced.
    static func synchronize() {
        for _ in 0..<2 {
            let generation = epoch.load(ordering: .sequentiallyConsistent) & 1
            epoch.wrappingAdd(1, ordering: .sequentiallyConsistent)
            let counts = stripes[(generation * stripesPerGeneration)..<((generation + 1) * stripesPerGeneration)]
            var spins = 0
            while counts.contains(where: { $0.count.load(ordering: .sequentiallyConsistent) != 0 }) {
                spins += 1
                // Reads are short (one field's decode): spin briefly, then let the reader run.
                if spins > 64 { sched_yield() }
            }
        }
    }
}

/// One change to a shared container's fields, under the writers' lock: a copy of the state
/// published last, changed, then published.
final class SharedFieldsChange {
    private let container: FieldContainer
    var storage: FieldStorage

    /// Takes the writers' lock and copies `container`'s fields.
    init(of container: FieldContainer) {
        SharedReads.writers.lock()
        self.container = container
        self.storage = container.sharedFieldsSnapshot()
    }

    /// Publishes the changed copy.
    func publish() { container.publishFields(storage) }

    /// Releases the writers' lock, whether the change was published or abandoned.
    func finish() { SharedReads.writers.unlock() }
}

extension FieldContainer {
    /// Whether other tasks may read this instance: set once a reference cache hands it out.
    final var isShared: Bool { FieldsWord.isShared(fieldsWord.load(ordering: .acquiring)) }

    /// Marks this instance as readable from other tasks: from now on its fields never change in
    /// place. Call it before the instance can reach another task (a reference cache does, under
    /// its lock, before handing a document out).
    final func markShared() {
        var word = fieldsWord.load(ordering: .acquiring)
        while !FieldsWord.isShared(word) {
            let schema = FieldsWord.schema(in: word)?.takeUnretainedValue() ?? lookUpSchema()
            let (exchanged, original) = fieldsWord.compareExchange(
                expected: word, desired: FieldsWord.word(for: schema) | FieldsWord.sharedInline, ordering: .acquiringAndReleasing)
            if exchanged { return }
            word = original
        }
    }

    /// The fields of a shared instance as published last: a copy, which keeps what it refers to
    /// (the stored bytes, the values changed) alive after the counted read that made it.
    @usableFromInline
    final func sharedFieldsSnapshot() -> FieldStorage {
        withPublishedFields { $0 }
    }

    /// Calls `body` with a shared instance's fields as published last, in a counted read: no
    /// writer frees them until `body` returns. `body` must not write a shared document.
    @inlinable @inline(__always)
    final func withPublishedFields<Result>(_ body: (FieldStorage) -> Result) -> Result {
        let stripe = SharedReads.enter()
        defer { SharedReads.exit(stripe) }
        let word = fieldsWord.load(ordering: .sequentiallyConsistent)
        if let state = FieldsWord.state(in: word) { return state._withUnsafeGuaranteedRef { body($0.storage) } }
        return body(inlineFields)
    }

    /// ``changeFields(_:)`` for a shared instance: `body` changes a copy of the state published
    /// last, under the writers' lock, and the copy is published (unless `body` throws).
    @usableFromInline
    final func changeSharedFields<Result>(_ body: (inout FieldStorage) throws -> Result) rethrows -> Result {
        let change = SharedFieldsChange(of: self)
        defer { change.finish() }
        let result = try body(&change.storage)
        change.publish()
        return result
    }

    /// Field `slot`'s value in a shared instance, read from the state published last, counted
    /// so that no writer frees the state during the read.
    @inlinable @inline(never)
    final func peekSharedField<Value: FieldValue>(_ slot: Int, schema: Schema, default defaultValue: @autoclosure () -> Value) -> Value {
        withPublishedFields { $0.peek(slot, schema: schema, default: defaultValue()) }
    }

    /// ``readField(_:schema:default:)`` for a shared instance. The first read of such a field
    /// caches the value, a write: it is published under the writers' lock, unless another task
    /// cached the field first (then its value is returned, so every task gets the same object).
    @inlinable @inline(never)
    final func readSharedField<Value: FieldValue>(_ slot: Int, schema: Schema, default defaultValue: @autoclosure () -> Value) -> Value {
        if let cached: Value = cachedSharedValue(slot) { return cached }
        SharedReads.writers.lock()
        defer { SharedReads.writers.unlock() }
        var storage = sharedFieldsSnapshot()
        let cachedBefore = storage.current[slot] != nil
        let value = storage.read(slot, schema: schema, default: defaultValue())
        if !cachedBefore, storage.current[slot] != nil {
            // Embedded documents read from a shared document are shared with it.
            Self.markContainersShared(in: value)
            publishFields(storage)
        }
        return value
    }

    /// The value cached for `slot` in the state published last, if it holds one of type `Value`.
    @usableFromInline
    final func cachedSharedValue<Value>(_ slot: Int) -> Value? {
        guard slot >= 0 else { return nil }
        // Unwrapped before the cast: `nil as? Value` succeeds (as nil) when Value is optional.
        guard let entry = withPublishedFields({ $0.current[slot] }) else { return nil }
        return entry as? Value
    }

    /// Publishes `storage` as this shared instance's fields and frees the state it replaces once
    /// no read can be using it. Called under ``SharedReads/writers``.
    @usableFromInline
    final func publishFields(_ storage: FieldStorage) {
        let state = Unmanaged.passRetained(FieldState(storage))
        let replaced = fieldsWord.exchange(UInt(bitPattern: state.toOpaque()) | FieldsWord.sharedPublished,
                                           ordering: .sequentiallyConsistent)
        SharedReads.synchronize()
        if let old = FieldsWord.state(in: replaced) {
            old.release()
        } else {
            inlineFields = FieldStorage()   // the frozen inline fields: no read can reach them any more
        }
    }

    /// Releases the published state, when the instance is freed.
    final func releasePublishedFields() {
        FieldsWord.state(in: fieldsWord.load(ordering: .acquiring))?.release()
    }

    /// Marks the containers `value` holds (an embedded document, or arrays, dictionaries and
    /// optionals of them) as shared.
    @usableFromInline
    static func markContainersShared(in value: Any) {
        if let container = value as? FieldContainer {
            container.markShared()
        } else if let array = value as? [Any] {
            for element in array { markContainersShared(in: element) }
        } else if let dictionary = value as? [String: Any] {
            for element in dictionary.values { markContainersShared(in: element) }
        }
    }
}
