import TendrilDriver

/// The ids a ``ReferenceCache`` found dangling (their documents missing), so that resolving one
/// again throws without a query: at most `capacity` of them, the least recently used forgotten
/// first. It holds keys only, never documents.
///
/// The capacity is the policy's ``ReferenceCachePolicy/danglingIDCapacity``: 0 remembers
/// nothing (every resolution asks the database), `Int.max` never forgets for room.
/// > Note: Not thread-safe: the cache uses it with its lock held.
struct DanglingMemo {
    /// The most ids remembered.
    let capacity: Int
    /// Each remembered id's last use, a number growing with every use.
    private var lastUse: [ReferenceKey: Int] = [:]
    /// Uses in order, oldest first from `head`; an entry whose number is no longer its key's
    /// last use is stale and skipped. Left empty when the memo is unbounded (nothing to order).
    private var uses: [(key: ReferenceKey, use: Int)] = []
    private var head = 0
    private var nextUse = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 0)
    }

    /// How many ids are remembered.
    var count: Int { lastUse.count }

    private var isBounded: Bool { capacity != .max }

    /// Whether `key` is remembered as dangling; if so it becomes the most recently used.
    mutating func contains(_ key: ReferenceKey) -> Bool {
        guard lastUse[key] != nil else { return false }
        if isBounded { recordUse(of: key) }
        return true
    }

    /// Remembers `key`, forgetting the least recently used ids beyond the capacity.
    mutating func insert(_ key: ReferenceKey) {
        guard capacity > 0 else { return }
        guard isBounded else {
            lastUse[key] = 0
            return
        }
        recordUse(of: key)
        while lastUse.count > capacity, head < uses.count {
            let oldest = uses[head]
            head += 1
            if lastUse[oldest.key] == oldest.use { lastUse[oldest.key] = nil }
        }
    }

    /// Forgets `key` (its document may exist again).
    mutating func remove(_ key: ReferenceKey) {
        lastUse[key] = nil
    }

    /// Forgets every id and gives the tables' memory back.
    mutating func removeAll() {
        self = DanglingMemo(capacity: capacity)
    }

    private mutating func recordUse(of key: ReferenceKey) {
        lastUse[key] = nextUse
        uses.append((key, nextUse))
        nextUse += 1
        // Stale and consumed entries are dropped once they outnumber the live ones, so `uses`
        // stays within about twice the ids remembered (amortised O(1) per use).
        if uses.count > 2 * lastUse.count + 16 {
            uses = uses[head...].filter { lastUse[$0.key] == $0.use }
            head = 0
        }
    }
}
