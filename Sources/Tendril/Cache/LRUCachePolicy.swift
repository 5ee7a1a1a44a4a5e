/// Keeps the most recently used documents within a count or a byte budget:
/// ``CachePolicy/lru(capacity:)`` and ``CachePolicy/lru(maxBytes:)``.
public struct LRUCachePolicy: ReferenceCachePolicy {
    /// The most documents kept, if bounded by count.
    public let capacity: Int?
    /// The most BSON bytes kept, if bounded by size.
    public let maxBytes: Int?

    /// A policy bounded by `capacity` documents, by `maxBytes` bytes, or both (negative bounds
    /// count as zero: nothing is kept).
    public init(capacity: Int?, maxBytes: Int?) {
        self.capacity = capacity.map { max($0, 0) }
        self.maxBytes = maxBytes.map { max($0, 0) }
    }

    public var description: String {
        switch (capacity, maxBytes) {
        case let (capacity?, nil): "lru(\(capacity))"
        case let (nil, bytes?): "lru(\(bytes) bytes)"
        case let (capacity?, bytes?): "lru(\(capacity), \(bytes) bytes)"
        case (nil, nil): "lru(unbounded)"
        }
    }

    public func makeStorage() -> any ReferenceCacheStorage { LRUStorage(capacity: capacity, maxBytes: maxBytes) }

    /// As many dangling ids as documents may be kept: `capacity` of them, and within `maxBytes`
    /// at 12 bytes (an ObjectId) each, so the memo is bounded by the same numbers as the
    /// documents.
    public var danglingIDCapacity: Int {
        min(capacity ?? .max, maxBytes.map { $0 / Self.danglingIDCost } ?? .max)
    }

    /// What one remembered dangling id costs in a byte budget: its ObjectId's size.
    static let danglingIDCost = 12

    /// A dictionary into a doubly linked list threaded through an array of nodes: O(1) lookup,
    /// touch, insert and eviction, and no allocation per entry beyond the dictionary's.
    final class LRUStorage: ReferenceCacheStorage {
        private struct Node {
            var key: ReferenceKey
            var document: Document?
            var cost: Int
            var newer: Int
            var older: Int
        }
        private let capacity: Int?
        private let maxBytes: Int?
        private var nodes: [Node] = []
        private var freeNodes: [Int] = []
        private var index: [ReferenceKey: Int] = [:]
        /// Most and least recently used nodes (-1 when empty).
        private var newest = -1, oldest = -1
        private(set) var residentBytes = 0

        init(capacity: Int?, maxBytes: Int?) {
            self.capacity = capacity
            self.maxBytes = maxBytes
        }

        var residentCount: Int { index.count }

        func lookUp(_ key: ReferenceKey) -> ReferenceCacheLookup {
            guard let node = index[key], let document = nodes[node].document else { return .miss }
            unlink(node)
            linkAsNewest(node)
            return .hit(document)
        }

        func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey] {
            remove(key)
            if let maxBytes, cost > maxBytes { return [key] }   // could never fit
            if capacity == 0 { return [key] }
            let node = Node(key: key, document: document, cost: cost, newer: -1, older: -1)
            let slot: Int
            if let free = freeNodes.popLast() {
                nodes[free] = node
                slot = free
            } else {
                nodes.append(node)
                slot = nodes.count - 1
            }
            index[key] = slot
            residentBytes += cost
            linkAsNewest(slot)
            var evicted: [ReferenceKey] = []
            while oldest != -1, oldest != slot, isOverBudget {
                evicted.append(nodes[oldest].key)
                remove(nodes[oldest].key)
            }
            return evicted
        }

        private var isOverBudget: Bool {
            if let capacity, index.count > capacity { return true }
            if let maxBytes, residentBytes > maxBytes { return true }
            return false
        }

        @discardableResult
        func remove(_ key: ReferenceKey) -> Bool {
            guard let node = index.removeValue(forKey: key) else { return false }
            unlink(node)
            residentBytes -= nodes[node].cost
            nodes[node].document = nil
            freeNodes.append(node)
            return true
        }

        func removeAll() {
            nodes.removeAll()
            freeNodes.removeAll()
            index.removeAll()
            newest = -1
            oldest = -1
            residentBytes = 0
        }

        private func unlink(_ node: Int) {
            let (newer, older) = (nodes[node].newer, nodes[node].older)
            if newer != -1 { nodes[newer].older = older } else { newest = older }
            if older != -1 { nodes[older].newer = newer } else { oldest = newer }
            nodes[node].newer = -1
            nodes[node].older = -1
        }

        private func linkAsNewest(_ node: Int) {
            nodes[node].older = newest
            nodes[node].newer = -1
            if newest != -1 { nodes[newest].newer = node }
            newest = node
            if oldest == -1 { oldest = node }
        }
    }
}
