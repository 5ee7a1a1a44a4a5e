internal import CTendrilMongoC

/// The one owner of a libbson `bson_t`. Documents share it and copy on write.
///
/// `@unchecked Sendable`: the handle is only mutated while uniquely referenced
/// (``BSONDocument`` checks `isKnownUniquelyReferenced` first), so shared storage
/// is immutable and may be read from any thread.
final class BSONStorage: @unchecked Sendable {
    let bson: OpaquePointer
    /// A compact read-only copy (`tendril_bson_new_compact_copy`): appending needs a copy first.
    let isReadOnly: Bool

    /// Takes ownership of a heap `bson_t` (from `bson_new`, `bson_copy`, `bson_new_from_data`...).
    init(owning bson: OpaquePointer) {
        self.bson = bson
        self.isReadOnly = false
    }

    /// A read-only copy of `source` in one allocation, for documents that are read, not built
    /// (cursor results); nil when libbson refuses the bytes.
    init?(compactCopyOf source: OpaquePointer) {
        guard let copy = tendril_bson_new_compact_copy(source) else { return nil }
        self.bson = copy
        self.isReadOnly = true
    }

    convenience init() {
        self.init(owning: bson_new())
    }

    /// Copies `length` bytes that were validated already. `bson_new_from_data` fails only
    /// for a bad header or terminator, which validation has ruled out; the empty fallback
    /// keeps even a broken invariant from becoming a crash.
    convenience init(copyingValidated data: UnsafePointer<UInt8>, length: Int) {
        self.init(owning: bson_new_from_data(data, length) ?? bson_new())
    }

    func copy() -> BSONStorage {
        BSONStorage(owning: bson_copy(bson))
    }

    var data: UnsafePointer<UInt8> { bson_get_data(bson) }
    var length: Int { Int(tendril_bson_length(bson)) }
    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: data, count: length) }

    deinit {
        if isReadOnly {
            tendril_bson_free_struct(bson)   // one block; bson_destroy frees nothing of a static bson_t
        } else {
            bson_destroy(bson)
        }
    }
}

/// A heap `bson_iter_t` (it is 128-byte aligned, so never on the Swift stack), freed with its owner.
final class BSONIteratorHandle {
    let iter: OpaquePointer
    let storage: BSONStorage

    init?(_ storage: BSONStorage) {
        self.iter = tendril_iter_new()
        self.storage = storage
        guard bson_iter_init(iter, storage.bson) else {
            tendril_iter_free(iter)
            return nil
        }
    }

    deinit {
        tendril_iter_free(iter)
    }
}
