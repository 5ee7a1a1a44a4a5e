import Tendril

/// An example of a policy of your own, for the lab to sweep beside the built-ins: first in, first
/// out within a count or a byte budget (a hit changes nothing; the papers' baseline). Copy this
/// file, change what `lookUp` and `store` do, and add a line to `LabPolicy.registered`.
///
/// ```swift
/// LabPolicy(name: "fifo") { capacity, maxBytes in CachePolicy(FIFOCachePolicy(capacity: capacity, maxBytes: maxBytes)) }
/// ```
struct FIFOCachePolicy: ReferenceCachePolicy {
    /// The most documents kept, if bounded by count.
    let capacity: Int?
    /// The most BSON bytes kept, if bounded by size.
    let maxBytes: Int?

    var description: String { "fifo(\(capacity.map { "\($0)" } ?? "-"), \(maxBytes.map { "\($0) bytes" } ?? "-"))" }

    func makeStorage() -> any ReferenceCacheStorage { Storage(capacity: capacity ?? .max, maxBytes: maxBytes ?? .max) }

    /// A dictionary and the keys in the order they were stored. A key removed early stays in the
    /// order until the head passes it; its stamp tells it from a later store of the same key.
    final class Storage: ReferenceCacheStorage {
        private let capacity: Int, maxBytes: Int
        private var entries: [ReferenceKey: (document: Document, cost: Int, stamp: Int)] = [:]
        private var order: [(key: ReferenceKey, stamp: Int)] = []
        private var head = 0, nextStamp = 0
        private(set) var residentBytes = 0

        init(capacity: Int, maxBytes: Int) {
            self.capacity = capacity
            self.maxBytes = maxBytes
        }

        var residentCount: Int { entries.count }

        func lookUp(_ key: ReferenceKey) -> ReferenceCacheLookup {
            entries[key].map { .hit($0.document) } ?? .miss
        }

        func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey] {
            remove(key)
            guard capacity > 0, cost <= maxBytes else { return [key] }   // could never fit
            var evicted: [ReferenceKey] = []
            while entries.count + 1 > capacity || residentBytes + cost > maxBytes, head < order.count {
                let oldest = order[head]
                head += 1
                if entries[oldest.key]?.stamp == oldest.stamp, remove(oldest.key) { evicted.append(oldest.key) }
            }
            entries[key] = (document, cost, nextStamp)
            order.append((key, nextStamp))
            nextStamp += 1
            residentBytes += cost
            // The order drops what the head has passed once that is most of it (amortised O(1)).
            if head > 1024, head > order.count / 2 {
                order.removeFirst(head)
                head = 0
            }
            return evicted
        }

        @discardableResult
        func remove(_ key: ReferenceKey) -> Bool {
            guard let entry = entries.removeValue(forKey: key) else { return false }
            residentBytes -= entry.cost
            return true
        }

        func removeAll() {
            entries.removeAll()
            order.removeAll()
            head = 0
            residentBytes = 0
        }
    }
}
