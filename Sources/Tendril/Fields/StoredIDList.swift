import TendrilDriver

/// Where each id of one stored `[ObjectID]` list lies in its document's stored bytes, indexed
/// once, so that the id at any position is read in O(1): what `person.$friends.value(at:)` and
/// `person.$friends.count` use while the list is unchanged since loading.
///
/// ```swift
/// for index in 0..<person.$friends.count {             // builds the index once
///     let friend = try await person.$friends.value(at: index)   // O(1) to find the id
/// }
/// ```
/// > Note: Memory: 4 bytes per reference (400 KB for 100,000), plus the stored bytes it keeps
/// alive, which the parent keeps anyway. The parent holds it until its stored bytes are
/// replaced (a save, an insert, `reload()`, a delete). Immutable once built, so it is read from
/// any thread; the parent publishes it under a lock (see `Document.storedIDList(at:of:build:)`).
final class StoredIDList: Sendable {
    /// The stored document the offsets point into: kept alive, unchanged, by this copy.
    private let source: BSONDocument
    /// Where each id's 12 bytes start in `source` (a BSON document is shorter than 2 GiB).
    private let valueOffsets: [Int32]

    /// Indexes the array whose element starts at `elementOffset` in `source`; nil when it is not
    /// an array of ObjectIds (loading checked that it is, so this does not happen for a loaded list).
    init?(_ source: BSONDocument, elementOffset: Int, keyLength: Int) {
        guard var counting = StoredIDCursor(source, elementOffset: elementOffset, keyLength: keyLength) else { return nil }
        var count = 0
        while counting.nextValueOffset() != nil { count += 1 }
        guard counting.isAtEnd, var cursor = StoredIDCursor(source, elementOffset: elementOffset, keyLength: keyLength) else {
            return nil
        }
        // Counted first, so the index holds exactly 4 bytes per id, not a doubling array's slack.
        var offsets: [Int32] = []
        offsets.reserveCapacity(count)
        while let offset = cursor.nextValueOffset() { offsets.append(Int32(truncatingIfNeeded: offset)) }
        self.source = source
        self.valueOffsets = offsets
    }

    /// How many ids the list holds.
    var count: Int { valueOffsets.count }

    /// The id at `index`; nil when out of range.
    subscript(index: Int) -> ObjectID? {
        guard valueOffsets.indices.contains(index) else { return nil }
        return source.withBytes { $0.objectID(atValueOffset: Int(valueOffsets[index])) }
    }

    /// True when this index was built from `stored` (the same bytes, which it keeps alive, so
    /// no other document can have their address meanwhile).
    func indexes(_ stored: BSONDocument) -> Bool { source.sharesStorage(with: stored) }
}

/// The ids of one stored `[ObjectID]` list, read forward in place from the stored bytes: how a
/// list's async sequence walks a long list without decoding it whole (12 bytes per id) or
/// indexing it (4 bytes per id).
struct StoredIDCursor: IteratorProtocol {
    /// The stored document: kept alive, unchanged, by this copy.
    private let source: BSONDocument
    private var position: Int
    private let end: Int

    /// A cursor before the first id of the array whose element starts at `elementOffset`; nil
    /// when that element is not an array.
    init?(_ source: BSONDocument, elementOffset: Int, keyLength: Int) {
        guard let elements = source.withBytes({ $0.arrayElements(atElementOffset: elementOffset, keyLength: keyLength) }) else {
            return nil
        }
        self.source = source
        self.position = elements.lowerBound
        self.end = elements.upperBound
    }

    /// True once every element was read; false when the walk stopped at an element that is not
    /// an ObjectId.
    var isAtEnd: Bool { position == end }

    /// Where the next id's 12 bytes start; nil at the end or at an element that is not an ObjectId.
    mutating func nextValueOffset() -> Int? {
        guard position < end, let element = source.withBytes({ $0.objectIDElement(at: position, before: end) }) else {
            return nil
        }
        position = element.next
        return element.value
    }

    mutating func next() -> ObjectID? {
        guard let offset = nextValueOffset() else { return nil }
        return source.withBytes { $0.objectID(atValueOffset: offset) }
    }
}

extension Document {
    /// The stored document reads of reference list `slot` come from (it was loaded and is
    /// unchanged since), and where the list's element starts in it; nil when reads come from its
    /// current value, or the list is absent. Both from one copy of the storage, so they belong
    /// together even while another task replaces a shared document's fields.
    private final func storedList(at slot: Int) -> (stored: BSONDocument, elementOffset: Int)? {
        guard slot >= 0 else { return nil }
        let storage = fieldStorage
        guard storage.current[slot] == nil, storage.loadedSlots?[slot] ?? true, let stored = storage.stored else { return nil }
        // After a save the load-time locations are gone: the key is looked up (O(keys)).
        guard let offset = storage.locations.offset(of: slot) ?? stored.elementOffset(forKey: schema.keys[slot]), offset >= 0 else {
            return nil
        }
        return (stored, offset)
    }

    /// The index of reference list `slot`'s stored ids, built on first use and kept until the
    /// stored bytes are replaced; nil when the list is read from its current value (changed, or
    /// absent from the stored document).
    final func storedIDList(at slot: Int) -> StoredIDList? {
        guard let (stored, offset) = storedList(at: slot) else { return nil }
        return storedIDList(at: slot, of: stored) {
            StoredIDList(stored, elementOffset: offset, keyLength: schema.keyLengths[slot])
        }
    }

    /// A cursor over reference list `slot`'s stored ids; nil when the list is read from its
    /// current value.
    final func storedIDCursor(at slot: Int) -> StoredIDCursor? {
        guard let (stored, offset) = storedList(at: slot) else { return nil }
        return StoredIDCursor(stored, elementOffset: offset, keyLength: schema.keyLengths[slot])
    }

    /// The ObjectId at `index` of reference list `slot`, in O(1): through the stored list's index
    /// while the list is unchanged since loading, else from the current list; nil when `index`
    /// is out of range.
    final func objectID(inListAt slot: Int, index: Int) -> ObjectID? {
        if let list = storedIDList(at: slot) { return list[index] }
        let ids: [ObjectID] = referenceIDs(at: slot, default: [])
        return ids.indices.contains(index) ? ids[index] : nil
    }

    /// How many ids reference list `slot` holds, without decoding them.
    final func referenceListCount(at slot: Int) -> Int {
        storedIDList(at: slot)?.count ?? referenceIDs(at: slot, default: [ObjectID]()).count
    }
}
