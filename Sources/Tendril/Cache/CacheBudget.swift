/// A bounded policy's limits: a count of documents, a sum of BSON sizes, or both (negative
/// bounds count as zero: nothing is kept).
struct CacheBudget: Sendable {
    let capacity: Int?
    let maxBytes: Int?

    init(capacity: Int?, maxBytes: Int?) {
        self.capacity = capacity.map { max($0, 0) }
        self.maxBytes = maxBytes.map { max($0, 0) }
    }

    /// Whether a document of `cost` bytes can be kept at all (alone in an empty cache).
    func admits(cost: Int) -> Bool {
        capacity != 0 && cost <= maxBytes ?? .max
    }

    /// Whether `count` documents of `bytes` in all go beyond the budget.
    func isExceeded(count: Int, bytes: Int) -> Bool {
        count > capacity ?? .max || bytes > maxBytes ?? .max
    }

    /// Whether `count` documents of `bytes` in all fill the budget (one more may exceed it).
    func isReached(count: Int, bytes: Int) -> Bool {
        count >= capacity ?? .max || bytes >= maxBytes ?? .max
    }

    /// As many dangling ids as documents may be kept: `capacity` of them, and within `maxBytes`
    /// at 12 bytes (an ObjectId) each.
    var danglingIDCapacity: Int {
        min(capacity ?? .max, maxBytes.map { $0 / Self.danglingIDCost } ?? .max)
    }

    /// What one remembered dangling id costs in a byte budget: its ObjectId's size.
    static let danglingIDCost = 12

    /// The policy's name with its bounds: `lru(16)`, `sieve(4096 bytes)`, `s3fifo(16, 4096 bytes)`.
    func describe(_ name: String) -> String {
        switch (capacity, maxBytes) {
        case let (capacity?, nil): "\(name)(\(capacity))"
        case let (nil, bytes?): "\(name)(\(bytes) bytes)"
        case let (capacity?, bytes?): "\(name)(\(capacity), \(bytes) bytes)"
        case (nil, nil): "\(name)(unbounded)"
        }
    }
}
