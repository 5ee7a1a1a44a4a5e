/// Keeps documents within a count or a byte budget, evicting as SIEVE does (Zhang et al.,
/// NSDI '24): ``CachePolicy/sieve(capacity:)`` and ``CachePolicy/sieve(maxBytes:)``.
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
public struct SieveCachePolicy: ReferenceCachePolicy {
    /// The most documents kept, if bounded by count.
    public var capacity: Int? { budget.capacity }
    /// The most BSON bytes kept, if bounded by size.
    public var maxBytes: Int? { budget.maxBytes }
    private let budget: CacheBudget

    /// A policy bounded by `capacity` documents, by `maxBytes` bytes, or both (negative bounds
    /// count as zero: nothing is kept).
    public init(capacity: Int?, maxBytes: Int?) {
        self.budget = CacheBudget(capacity: capacity, maxBytes: maxBytes)
    }

    public var description: String { budget.describe("sieve") }

    public func makeStorage() -> any ReferenceCacheStorage { SieveStorage(budget: budget) }

    /// As for ``LRUCachePolicy``: `capacity` dangling ids, and within `maxBytes` at 12 bytes each.
    public var danglingIDCapacity: Int { budget.danglingIDCapacity }

    /// A dictionary into one FIFO queue (newest at the head) and the hand's slot.
    final class SieveStorage: ReferenceCacheStorage {
        private let budget: CacheBudget
        private var entries = EntryQueues(queueCount: 1)
        private var index: [ReferenceKey: Int] = [:]
        /// The next slot the hand looks at; nil: the tail.
        private var hand: Int?
        private static let fifo = 0

        init(budget: CacheBudget) {
            self.budget = budget
        }

        var residentCount: Int { index.count }
        var residentBytes: Int { entries.bytes(in: Self.fifo) }

        func lookUp(_ key: ReferenceKey) -> ReferenceCacheLookup {
            guard let slot = index[key], let document = entries[slot].document else { return .miss }
            entries.setFrequency(1, at: slot)   // visited; the queue's order does not change
            return .hit(document)
        }

        func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey] {
            remove(key)
            guard budget.admits(cost: cost) else { return [key] }   // could never fit
            // Room first, then the newcomer at the head: the hand never meets it on its way in.
            var evicted: [ReferenceKey] = []
            while budget.isExceeded(count: index.count + 1, bytes: residentBytes + cost), let victim = evictOne() {
                evicted.append(victim)
            }
            index[key] = entries.insertNewest(.init(key: key, document: document, cost: cost), in: Self.fifo)
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
            guard let slot = index.removeValue(forKey: key) else { return false }
            if hand == slot { hand = entries.newer(than: slot) }
            entries.remove(slot)
            return true
        }

        func removeAll() {
            entries.removeAll()
            index.removeAll()
            hand = nil
        }
    }
}
