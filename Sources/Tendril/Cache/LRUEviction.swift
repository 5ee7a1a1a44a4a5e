/// Evicts the least recently used document: the rule of ``LRUCachePolicy``
/// (``CachePolicy/lru(capacity:maxBytes:keep:)``).
///
/// ```swift
/// person.referenceCache.policy = .lru(capacity: 64)
/// ```
public enum LRUEviction: EvictionRule {
    public static let name = "lru"
    public static func makeStorage(capacity: Int?, maxBytes: Int?) -> any ReferenceCacheStorage { LRUStorage(capacity, maxBytes) }

    /// A dictionary into one recency queue (newest at the head): O(1) lookup, touch, insert and
    /// eviction.
    final class LRUStorage: QueuedStorage, EvictionObserving {
        var entries: EntryQueues
        var didEvict: ((ReferenceKey, Document, Int) -> Void)?
        private static let recency = 0

        init(_ capacity: Int?, _ maxBytes: Int?) {
            entries = EntryQueues(queueCount: 1, budget: CacheBudget(capacity: capacity, maxBytes: maxBytes))
        }

        func lookUp(_ key: ReferenceKey) -> ReferenceCacheLookup {
            guard let (slot, document) = entries.document(forKey: key) else { return .miss }
            entries.move(slot, toNewestOf: Self.recency)
            return .hit(document)
        }

        func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey] {
            remove(key)
            guard entries.budget.admits(cost: cost) else { return [key] }   // could never fit
            let slot = entries.insertNewest(.init(key: key, document: document, cost: cost), in: Self.recency)
            var evicted: [ReferenceKey] = []
            while let oldest = entries.oldest(in: Self.recency), oldest != slot,
                  entries.budget.isExceeded(count: residentCount, bytes: residentBytes) {
                let victim = entries.remove(oldest)
                evicted.append(victim.key)
                if let document = victim.document { didEvict?(victim.key, document, victim.cost) }
            }
            return evicted
        }

        @discardableResult
        func remove(_ key: ReferenceKey) -> Bool { entries.removeDocument(forKey: key) }

        func removeAll() { entries.removeAll() }
    }
}
