/// Evicts as S3-FIFO (Yang et al., SOSP '23) does: the rule of ``S3FIFOCachePolicy``
/// (``CachePolicy/s3fifo(capacity:maxBytes:)``).
///
/// Three FIFO queues: a small one (a tenth of the budget) where new documents start, a main one
/// (the rest), and a ghost one of ids only (no documents), sized like the main one. A hit
/// counts, up to 3. Making room takes the small queue's tail unless the small queue is empty or
/// the main one exceeds its share: a document hit there moves to the main queue, one never hit
/// leaves and its id goes to the ghost. Otherwise it takes the main queue's tail:
/// a document hit there goes back to the main queue's head with one hit less, one never hit
/// leaves. A document fetched again while its id is in the ghost goes straight to the main
/// queue. Documents used once leave after a short stay: on skewed workloads it sends fewer
/// queries than LRU for the same room.
///
/// ```swift
/// person.referenceCache.policy = .s3fifo(maxBytes: 1 << 20)
/// ```
/// > Note: Under a count budget the small queue holds at least one document. The ghost holds
/// ids, not documents; it is not counted in `residentCount` or `residentBytes`.
public enum S3FIFOEviction: EvictionRule {
    public static let name = "s3fifo"
    public static func makeStorage(capacity: Int?, maxBytes: Int?) -> any ReferenceCacheStorage { S3FIFOStorage(capacity, maxBytes) }

    /// A dictionary into three FIFO queues (newest at each head): small, main, and the ghost.
    final class S3FIFOStorage: QueuedStorage {
        /// The small queue's share: a tenth of each bound (at least one document).
        private let smallBudget: CacheBudget
        /// The main queue's share (the rest), and the ghost's size.
        private let mainBudget: CacheBudget
        /// The documents kept (in the small or the main queue) and the ghost's ids.
        var entries: EntryQueues
        /// The ids in the ghost.
        private var ghostIndex: [ReferenceKey: Int] = [:]
        private static let small = 0, main = 1, ghost = 2
        /// The most hits counted per document (two bits in the paper).
        static let maximumFrequency = 3

        init(_ capacity: Int?, _ maxBytes: Int?) {
            let budget = CacheBudget(capacity: capacity, maxBytes: maxBytes)
            let smallCapacity = budget.capacity.map { max(1, $0 / 10) }
            let smallBytes = budget.maxBytes.map { $0 / 10 }
            smallBudget = CacheBudget(capacity: smallCapacity, maxBytes: smallBytes)
            mainBudget = CacheBudget(capacity: budget.capacity.map { $0 - (smallCapacity ?? 0) },
                                     maxBytes: budget.maxBytes.map { $0 - (smallBytes ?? 0) })
            entries = EntryQueues(queueCount: 3, budget: budget)
        }

        func lookUp(_ key: ReferenceKey) -> ReferenceCacheLookup {
            guard let (slot, document) = entries.document(forKey: key) else { return .miss }
            entries.setFrequency(min(entries[slot].frequency + 1, Self.maximumFrequency), at: slot)
            return .hit(document)
        }

        func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey] {
            remove(key)
            guard entries.budget.admits(cost: cost) else { return [key] }   // could never fit
            // Looked up in the ghost before making room (as libCacheSim does on the miss), so
            // the ids that room pushes into the ghost cannot push this one out first.
            var queue = Self.small
            if let ghostSlot = ghostIndex.removeValue(forKey: key) {
                entries.remove(ghostSlot)
                queue = Self.main   // seen recently enough to be remembered: no probation
            }
            var evicted: [ReferenceKey] = []
            while entries.budget.isExceeded(count: residentCount + 1, bytes: residentBytes + cost), let victim = evictOne() {
                evicted.append(victim)
            }
            entries.insertNewest(.init(key: key, document: document, cost: cost), in: queue)
            return evicted
        }

        /// Evicts one document: from the main queue when it exceeds its share or the small one
        /// is empty, otherwise from the small queue. (libCacheSim's rule. The paper's, "from the
        /// small queue when it fills its share", is the same under a count budget; under a byte
        /// budget a newcomer may need room while neither queue fills its share, and then the
        /// small queue gives it.)
        private func evictOne() -> ReferenceKey? {
            let mainIsOver = mainBudget.isExceeded(count: entries.count(in: Self.main), bytes: entries.bytes(in: Self.main))
            if entries.count(in: Self.small) > 0, !mainIsOver, let victim = evictFromSmall() { return victim }
            return evictFromMain()
        }

        /// Takes the small queue's tail until one leaves: hit ones move to the main queue
        /// (their hits cleared), the first never hit leaves and its id goes to the ghost.
        private func evictFromSmall() -> ReferenceKey? {
            while let slot = entries.oldest(in: Self.small) {
                if entries[slot].frequency > 0 {
                    entries.setFrequency(0, at: slot)
                    entries.move(slot, toNewestOf: Self.main)
                    continue
                }
                let victim = entries.remove(slot)
                remember(victim.key, cost: victim.cost)
                return victim.key
            }
            return nil
        }

        /// Takes the main queue's tail until one leaves: hit ones go back to the head with one
        /// hit less, the first never hit (or no longer) leaves.
        private func evictFromMain() -> ReferenceKey? {
            while let slot = entries.oldest(in: Self.main) {
                let frequency = entries[slot].frequency
                if frequency > 0 {
                    entries.setFrequency(frequency - 1, at: slot)
                    entries.move(slot, toNewestOf: Self.main)
                    continue
                }
                let victim = entries[slot].key
                remove(victim)
                return victim
            }
            return nil
        }

        /// Puts `key` at the ghost's head, forgetting its oldest ids beyond the main queue's size.
        private func remember(_ key: ReferenceKey, cost: Int) {
            ghostIndex[key] = entries.insertNewest(.init(key: key, document: nil, cost: cost), in: Self.ghost)
            while let oldest = entries.oldest(in: Self.ghost),
                  mainBudget.isExceeded(count: entries.count(in: Self.ghost), bytes: entries.bytes(in: Self.ghost)) {
                ghostIndex[entries.remove(oldest).key] = nil
            }
        }

        /// Drops the document kept under `key` (its id, if in the ghost, stays there: the ghost
        /// is history, not content).
        @discardableResult
        func remove(_ key: ReferenceKey) -> Bool { entries.removeDocument(forKey: key) }

        func removeAll() {
            entries.removeAll()
            ghostIndex.removeAll()
        }
    }
}
