/// Evicts as SIEVE (Zhang et al., NSDI '24) does: the rule of ``SieveCachePolicy``
/// (``CachePolicy/sieve(capacity:maxBytes:)``).
///
/// One FIFO queue, new documents at its head; a hit only marks its document visited. To make
/// room, a hand sweeps from the tail towards the head, clearing the marks it passes, and evicts
/// the first document not visited; it stays where it stopped for the next eviction (wrapping
/// to the tail past the head). Popular documents stay without being moved, and documents used
/// once leave quickly: on skewed workloads it sends fewer queries than LRU for the same room.
///
/// ```swift
/// person.referenceCache.policy = .sieve(capacity: 64)
/// ```
public enum SieveEviction: EvictionRule {
    public static let name = "sieve"
    public static func makeStorage(capacity: Int?, maxBytes: Int?) -> any ReferenceCacheStorage { SieveStorage(capacity, maxBytes) }

    /// A dictionary into one FIFO queue (newest at the head) and the hand's slot.
    final class SieveStorage: QueuedStorage {
        var entries: EntryQueues
        /// The next slot the hand looks at; nil: the tail.
        private var hand: Int?
        private static let fifo = 0

        init(_ capacity: Int?, _ maxBytes: Int?) {
            entries = EntryQueues(queueCount: 1, budget: CacheBudget(capacity: capacity, maxBytes: maxBytes))
        }

        func lookUp(_ key: ReferenceKey) -> ReferenceCacheLookup {
            guard let (slot, document) = entries.document(forKey: key) else { return .miss }
            entries.setFrequency(1, at: slot)   // visited; the queue's order does not change
            return .hit(document)
        }

        func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey] {
            remove(key)
            guard entries.budget.admits(cost: cost) else { return [key] }   // could never fit
            // Room first, then the newcomer at the head: the hand never meets it on its way in.
            var evicted: [ReferenceKey] = []
            while entries.budget.isExceeded(count: residentCount + 1, bytes: residentBytes + cost), let victim = evictOne() {
                evicted.append(victim)
            }
            entries.insertNewest(.init(key: key, document: document, cost: cost), in: Self.fifo)
            return evicted
        }

        /// Moves the hand to the first entry not visited, clearing marks on the way, and evicts it.
        private func evictOne() -> ReferenceKey? {
            guard var slot = hand ?? entries.oldest(in: Self.fifo) else { return nil }
            while entries[slot].frequency > 0 {
                entries.setFrequency(0, at: slot)
                guard let next = entries.newer(than: slot) ?? entries.oldest(in: Self.fifo) else { return nil }
                slot = next
            }
            hand = slot
            let victim = entries[slot].key
            remove(victim)   // moves the hand one step towards the head
            return victim
        }

        @discardableResult
        func remove(_ key: ReferenceKey) -> Bool {
            guard let slot = entries.slot(of: key) else { return false }
            if hand == slot { hand = entries.newer(than: slot) }
            entries.remove(slot)
            return true
        }

        func removeAll() {
            entries.removeAll()
            hand = nil
        }
    }
}
