import TendrilDriver

/// ``CachePolicy/lru(capacity:maxBytes:keep:)`` with ``Residency/bytes``: keeps each document as a copy
/// of its BSON bytes only and hydrates a new instance on every hit, so what it retains is the
/// bytes plus about 40 bytes an entry.
///
/// Layout, chosen for that ratio: one allocation per document (a byte naming its class, then
/// the BSON, whose `_id` is the key: no copy of the id), a record per entry (the allocation and
/// the recency links, 16 bytes), and an open-addressed table of record numbers (4 bytes a
/// bucket, at most three quarters full).
/// > Note: Not thread-safe: its cache calls it with the cache's lock held. A document whose
/// `_id` is not its first element, a partial document (a projected prefetch) and a class beyond
/// the 255th it has seen are not kept.
final class CompactLRUStorage: ReferenceCacheStorage {
    private struct Record {
        var bytes: UnsafeMutableRawPointer?
        var newer: Int32 = -1
        var older: Int32 = -1
    }

    private let budget: CacheBudget
    /// What hydrated documents inherit: the stored documents' settings, without a peer group.
    private var settings: ReferenceSettings?
    private var types: [Document.Type] = []
    private var records: ContiguousArray<Record> = []
    /// Free records, chained through `older`.
    private var firstFree: Int32 = -1
    /// Record numbers, -1 for an empty bucket; a power of two long.
    private var buckets: ContiguousArray<Int32> = []
    private var newest: Int32 = -1, oldest: Int32 = -1
    private(set) var residentCount = 0
    private(set) var residentBytes = 0

    init(budget: CacheBudget) {
        self.budget = budget
    }

    deinit { removeAll() }

    func lookUp(_ key: ReferenceKey) -> ReferenceCacheLookup {
        guard let (_, record) = find(key), let pointer = records[Int(record)].bytes else { return .miss }
        unlink(record)
        linkNewest(record)
        let bson = UnsafeBufferPointer(start: (pointer + 1).assumingMemoryBound(to: UInt8.self), count: BSONBytes(pointer + 1).length)
        do {
            return .hit(try key.documentType.hydrate(.received(bson), settings: settings))
        } catch {
            // The bytes loaded when they were fetched; failing now, they are dropped and fetched anew.
            remove(key)
            return .expired
        }
    }

    func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey] {
        remove(key)
        guard budget.admits(cost: cost), let typeIndex = typeIndex(of: key.documentType),
              let pointer = copy(document, id: key.id, typeIndex: typeIndex) else { return [key] }
        if settings == nil, let inherited = document.referenceSettings {
            settings = ReferenceSettings(database: inherited.database, policy: inherited.policy, fetchMode: inherited.fetchMode)
        }
        let length = BSONBytes(pointer + 1).length
        let record = newRecord(pointer)
        insertBucket(record, hash: bucketHash(key.id))
        linkNewest(record)
        residentCount += 1
        residentBytes += length
        var evicted: [ReferenceKey] = []
        while oldest != -1, oldest != record, budget.isExceeded(count: residentCount, bytes: residentBytes),
              let victim = self.key(of: oldest) {
            evicted.append(victim)
            remove(victim)
        }
        return evicted
    }

    @discardableResult
    func remove(_ key: ReferenceKey) -> Bool {
        guard let (bucket, record) = find(key), let pointer = records[Int(record)].bytes else { return false }
        deleteBucket(at: bucket)
        unlink(record)
        residentCount -= 1
        residentBytes -= BSONBytes(pointer + 1).length
        pointer.deallocate()
        records[Int(record)] = Record(bytes: nil, newer: -1, older: firstFree)
        firstFree = record
        return true
    }

    func removeAll() {
        for record in records { record.bytes?.deallocate() }
        records = []
        buckets = []
        firstFree = -1
        newest = -1
        oldest = -1
        residentCount = 0
        residentBytes = 0
    }

    // MARK: - Bytes

    /// A new allocation holding `typeIndex` then the document's stored BSON, when that BSON is
    /// whole and starts with `_id` equal to `id`.
    private func copy(_ document: Document, id: ObjectID, typeIndex: UInt8) -> UnsafeMutableRawPointer? {
        document.readFields { fields -> UnsafeMutableRawPointer? in
            guard fields.loadedSlots == nil, let stored = fields.storedBytes, Self.id(in: stored) == id else { return nil }
            let length = BSONBytes(stored).length
            let pointer = UnsafeMutableRawPointer.allocate(byteCount: length + 1, alignment: 1)
            // Bound as bytes: hits read the BSON through an `UnsafeBufferPointer<UInt8>`.
            let bytes = pointer.bindMemory(to: UInt8.self, capacity: length + 1)
            bytes[0] = typeIndex
            UnsafeMutableRawPointer(bytes + 1).copyMemory(from: stored, byteCount: length)
            return pointer
        }
    }

    /// The `_id` of a BSON document whose first element is `_id`, an ObjectId.
    private static func id(in bson: UnsafeRawPointer) -> ObjectID? {
        let key = bson + 5   // after the length (4) and the type byte (1)
        guard key.load(as: UInt8.self) == 0x5F, (key + 1).load(as: UInt8.self) == 0x69,
              (key + 2).load(as: UInt8.self) == 0x64, (key + 3).load(as: UInt8.self) == 0 else { return nil }
        return BSONBytes(bson).objectID(atElementOffset: 4, keyLength: 3)
    }

    private func typeIndex(of type: Document.Type) -> UInt8? {
        if let index = types.firstIndex(where: { $0 == type }) { return UInt8(index) }
        guard types.count < Int(UInt8.max) else { return nil }
        types.append(type)
        return UInt8(types.count - 1)
    }

    /// The key of the entry in `record`.
    private func key(of record: Int32) -> ReferenceKey? {
        guard let pointer = records[Int(record)].bytes, let id = Self.id(in: pointer + 1) else { return nil }
        return ReferenceKey(types[Int(pointer.load(as: UInt8.self))], id: id)
    }

    // MARK: - Records and recency

    private func newRecord(_ pointer: UnsafeMutableRawPointer) -> Int32 {
        guard firstFree == -1 else {
            let record = firstFree
            firstFree = records[Int(record)].older
            records[Int(record)] = Record(bytes: pointer)
            return record
        }
        records.append(Record(bytes: pointer))
        return Int32(records.count - 1)
    }

    private func linkNewest(_ record: Int32) {
        records[Int(record)].older = newest
        records[Int(record)].newer = -1
        if newest != -1 { records[Int(newest)].newer = record }
        newest = record
        if oldest == -1 { oldest = record }
    }

    private func unlink(_ record: Int32) {
        let (newer, older) = (records[Int(record)].newer, records[Int(record)].older)
        if newer != -1 { records[Int(newer)].older = older } else { newest = older }
        if older != -1 { records[Int(older)].newer = newer } else { oldest = newer }
    }

    // MARK: - The table

    private func bucketHash(_ id: ObjectID) -> Int { id.hashValue }

    /// The bucket and record of `key`'s entry.
    private func find(_ key: ReferenceKey) -> (Int, Int32)? {
        guard !buckets.isEmpty, let typeIndex = types.firstIndex(where: { $0 == key.documentType }) else { return nil }
        let mask = buckets.count - 1
        var bucket = bucketHash(key.id) & mask
        while buckets[bucket] != -1 {
            let record = buckets[bucket]
            if let pointer = records[Int(record)].bytes, Int(pointer.load(as: UInt8.self)) == typeIndex,
               Self.id(in: pointer + 1) == key.id {
                return (bucket, record)
            }
            bucket = (bucket + 1) & mask
        }
        return nil
    }

    private func insertBucket(_ record: Int32, hash: Int) {
        if (residentCount + 1) * 4 > buckets.count * 3 { grow() }
        let mask = buckets.count - 1
        var bucket = hash & mask
        while buckets[bucket] != -1 { bucket = (bucket + 1) & mask }
        buckets[bucket] = record
    }

    private func grow() {
        let old = buckets
        buckets = ContiguousArray(repeating: -1, count: max(8, old.count * 2))
        let mask = buckets.count - 1
        for record in old where record != -1 {
            var bucket = home(of: record) & mask
            while buckets[bucket] != -1 { bucket = (bucket + 1) & mask }
            buckets[bucket] = record
        }
    }

    private func home(of record: Int32) -> Int {
        guard let pointer = records[Int(record)].bytes, let id = Self.id(in: pointer + 1) else { return 0 }
        return bucketHash(id)
    }

    /// Empties `bucket`, moving back later entries of its probe run (no tombstones).
    private func deleteBucket(at bucket: Int) {
        let mask = buckets.count - 1
        var hole = bucket
        var next = (bucket + 1) & mask
        while buckets[next] != -1 {
            let wanted = home(of: buckets[next]) & mask
            // Movable unless its home lies cyclically in (hole, next].
            let staysPut = hole < next ? (wanted > hole && wanted <= next) : (wanted > hole || wanted <= next)
            if !staysPut {
                buckets[hole] = buckets[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        buckets[hole] = -1
    }
}
