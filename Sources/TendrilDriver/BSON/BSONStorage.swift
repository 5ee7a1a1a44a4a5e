internal import CTendrilMongoC

/// What a ``BSONStorage`` holds besides its inline bytes.
struct BSONStorageHeader {
    /// The owned, growable `bson_t` of a document being built; nil when the bytes are inline.
    let owned: OpaquePointer?
    /// The number of inline bytes (0 for an owned `bson_t`, whose length libbson tracks).
    let inlineLength: Int
}

/// The bytes of one BSON document, shared by ``BSONDocument`` values, which copy on write.
///
/// Two forms: a document being built owns a growable libbson `bson_t`; a document that is only
/// read (a cursor result, bytes from outside, a nested document) keeps its bytes inline, in the
/// same allocation as this object, with no `bson_t` at all (one is lent for the rare libbson call
/// that needs one, see ``withBSON(_:)``): a fetched document costs its bytes plus this object's
/// header, not a 128-byte `bson_t` and a second allocation.
///
/// Thread safety (why ``BSONDocument`` is `@unchecked Sendable`): an owned `bson_t` is only
/// mutated while uniquely referenced (``BSONDocument`` checks `isKnownUniquelyReferenced`
/// first), and inline bytes never change, so shared storage is immutable and may be read from
/// any thread.
final class BSONStorage: ManagedBuffer<BSONStorageHeader, UInt8> {
    /// Takes ownership of a heap `bson_t` (from `bson_new`, `bson_copy`, `bson_new_from_data`...).
    static func owning(_ bson: OpaquePointer) -> BSONStorage {
        let storage = create(minimumCapacity: 0) { _ in BSONStorageHeader(owned: bson, inlineLength: 0) }
        return unsafeDowncast(storage, to: BSONStorage.self)
    }

    /// An empty document to build on.
    static func empty() -> BSONStorage {
        owning(bson_new())
    }

    /// Copies `length` bytes that were validated already, inline: the storage is read-only, and
    /// appending to its document copies it into an owned `bson_t` first.
    static func copyingValidated(_ data: UnsafePointer<UInt8>, length: Int) -> BSONStorage {
        let storage = create(minimumCapacity: length) { _ in BSONStorageHeader(owned: nil, inlineLength: length) }
        storage.withUnsafeMutablePointerToElements { $0.initialize(from: data, count: length) }
        return unsafeDowncast(storage, to: BSONStorage.self)
    }

    /// An owned copy, to build on.
    func copy() -> BSONStorage {
        BSONStorage.owning(bson_new_from_data(data, length) ?? bson_new())
    }

    /// The header, read through its pointer: it never changes after creation, and reading
    /// `ManagedBuffer.header` (a class `var`) costs a dynamic exclusivity check on every access,
    /// which showed in every load's profile.
    private var fixedHeader: BSONStorageHeader { withUnsafeMutablePointerToHeader { $0.pointee } }

    /// The first byte of the document. Valid while the storage lives (callers keep it alive
    /// with `withExtendedLifetime`).
    var data: UnsafePointer<UInt8> {
        if let owned = fixedHeader.owned { return bson_get_data(owned) }
        return withUnsafeMutablePointerToElements { UnsafePointer($0) }
    }

    var length: Int {
        if let owned = fixedHeader.owned { return Int(tendril_bson_length(owned)) }
        return fixedHeader.inlineLength
    }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: data, count: length) }

    /// Lends a `bson_t` for libbson and libmongoc calls: the owned one, or a view over the inline
    /// bytes made for the call and freed after it.
    /// - Throws: ``BSONError`` `.malformedBytes` if libbson refuses the inline bytes (they were
    ///   validated when stored, so this does not happen; it is reported, never trapped).
    func withBSON<R>(_ body: (OpaquePointer) throws -> R) throws -> R {
        if let owned = fixedHeader.owned { return try body(owned) }
        let view = withExtendedLifetime(self) { tendril_bson_new_view(data, UInt32(length)) }
        // Inline bytes were validated when stored, so libbson accepts them. Lending anything else
        // (an empty document) could turn a filter into "everything": report it instead.
        guard let view else { throw BSONError(.malformedBytes, "libbson refused a validated document") }
        defer { tendril_bson_free_struct(view) }
        return try withExtendedLifetime(self) { try body(view) }
    }

    /// The `bson_t` of an owned storage, to append to; nil for inline bytes.
    var growable: OpaquePointer? { fixedHeader.owned }

    deinit {
        if let owned = fixedHeader.owned { bson_destroy(owned) }
    }
}

/// A heap `bson_iter_t` (it is 128-byte aligned, so never on the Swift stack), freed with its owner.
final class BSONIteratorHandle {
    let iter: OpaquePointer
    let storage: BSONStorage

    init?(_ storage: BSONStorage) {
        self.iter = tendril_iter_new()
        self.storage = storage
        guard bson_iter_init_from_data(iter, storage.data, storage.length) else {
            tendril_iter_free(iter)
            return nil
        }
    }

    deinit {
        tendril_iter_free(iter)
    }
}
