/// Keeps the most recently used documents within a count or a byte budget:
/// ``CachePolicy/lru(capacity:)`` and ``CachePolicy/lru(maxBytes:)``, as documents or as their
/// bytes (``CachePolicy/lru(maxBytes:keep:)``).
public struct LRUCachePolicy: ReferenceCachePolicy {
    /// The most documents kept, if bounded by count.
    public var capacity: Int? { budget.capacity }
    /// The most BSON bytes kept, if bounded by size.
    public var maxBytes: Int? { budget.maxBytes }
    /// What is kept of each document: the instance, or its BSON bytes only.
    public let residency: Residency
    private let budget: CacheBudget

    /// A policy bounded by `capacity` documents, by `maxBytes` bytes, or both (negative bounds
    /// count as zero: nothing is kept; both nil keeps everything), keeping documents or bytes.
    public init(capacity: Int?, maxBytes: Int?, keep residency: Residency = .documents) {
        self.budget = CacheBudget(capacity: capacity, maxBytes: maxBytes)
        self.residency = residency
    }

    public var description: String {
        residency == .bytes ? budget.describe("lru-bytes") : budget.describe("lru")
    }

    public func makeStorage() -> any ReferenceCacheStorage {
        switch residency {
        case .documents: LRUStorage(budget: budget)
        case .bytes: CompactLRUStorage(budget: budget)
        }
    }

    /// As many dangling ids as documents may be kept: `capacity` of them, and within `maxBytes`
    /// at 12 bytes (an ObjectId) each, so the memo is bounded by the same numbers as the
    /// documents.
    public var danglingIDCapacity: Int { budget.danglingIDCapacity }

    /// A dictionary into one recency queue (newest at the head): O(1) lookup, touch, insert and
    /// eviction.
    final class LRUStorage: ReferenceCacheStorage, EvictionObserving {
        private let budget: CacheBudget
        var didEvict: ((ReferenceKey, Document, Int) -> Void)?
        private var entries = EntryQueues(queueCount: 1)
        private var index: [ReferenceKey: Int] = [:]
        private static let recency = 0

        init(budget: CacheBudget) {
            self.budget = budget
        }

        var residentCount: Int { index.count }
        var residentBytes: Int { entries.bytes(in: Self.recency) }

        func lookUp(_ key: ReferenceKey) -> ReferenceCacheLookup {
            guard let slot = index[key], let document = entries[slot].document else { return .miss }
            entries.move(slot, toNewestOf: Self.recency)
            return .hit(document)
        }

        func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey] {
            remove(key)
            guard budget.admits(cost: cost) else { return [key] }   // could never fit
            let slot = entries.insertNewest(.init(key: key, document: document, cost: cost), in: Self.recency)
            index[key] = slot
            var evicted: [ReferenceKey] = []
            while let oldest = entries.oldest(in: Self.recency), oldest != slot,
                  budget.isExceeded(count: index.count, bytes: residentBytes) {
                let victim = entries[oldest]
                evicted.append(victim.key)
                remove(victim.key)
                if let document = victim.document { didEvict?(victim.key, document, victim.cost) }
            }
            return evicted
        }

        @discardableResult
        func remove(_ key: ReferenceKey) -> Bool {
            guard let slot = index.removeValue(forKey: key) else { return false }
            entries.remove(slot)
            return true
        }

        func removeAll() {
            entries.removeAll()
            index.removeAll()
        }
    }
}
