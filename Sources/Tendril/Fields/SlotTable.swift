/// Where a class's key paths lead, as an immutable table read without a lock: every field access
/// looks its storage key path up here, and partial documents their property key paths.
///
/// A schema publishes a copy with one entry more (under its lock) each time a key path is
/// resolved, and keeps every copy it published: a reader loads the current one without retaining
/// it, so no copy may be freed while a reader might still probe it, and telling when none does
/// would cost every read. Their number is bounded all the same: one per distinct key path the
/// program resolves on the class (its fields' storage key paths and the key paths its queries
/// and partial documents name), since a key path equal to one resolved before (a generic class's
/// key paths are new objects on each access) is answered by value instead of published again.
@usableFromInline
final class SlotTable {
    /// The answers by key-path object. Each entry keeps its key path alive, so no other object
    /// can take its address while the entry exists; the newest table holds every entry.
    private(set) var entries: [ObjectIdentifier: (keyPath: AnyKeyPath, answer: Int)]
    /// The same answers by key-path address, read on every field access.
    @usableFromInline let byAddress: AddressTable

    init(_ entries: [ObjectIdentifier: (keyPath: AnyKeyPath, answer: Int)]) {
        self.entries = entries
        self.byAddress = AddressTable(entries.map { ($0.key, $0.value.answer) })
    }

    /// The answer recorded for the key path object at `identity`, or nil.
    @inlinable
    func answer(for identity: ObjectIdentifier) -> Int? { byAddress.value(for: identity) }

    /// Lets the entries go once a newer table holds them (and keeps their key paths alive): a
    /// superseded table is only ever probed by address.
    func dropEntries() { entries = [:] }
}
