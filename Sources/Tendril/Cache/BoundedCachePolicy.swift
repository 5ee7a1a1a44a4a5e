/// A policy that keeps documents within a count or a byte budget, evicting as its rule says:
/// ``LRUCachePolicy`` (``CachePolicy/lru(capacity:maxBytes:keep:)``), ``SieveCachePolicy``
/// (``CachePolicy/sieve(capacity:maxBytes:)``) and ``S3FIFOCachePolicy``
/// (``CachePolicy/s3fifo(capacity:maxBytes:)``) are this type with the rules ``LRUEviction``, ``SieveEviction`` and ``S3FIFOEviction``.
///
/// ```swift
/// let policy = SieveCachePolicy(capacity: 64, maxBytes: 1 << 20)   // both bounds hold
/// person.referenceCache.policy = CachePolicy(policy)
/// print(policy)                                                    // sieve(64, 1048576 bytes)
/// ```
/// The budget is exact: the documents kept never add up to more than `capacity` or `maxBytes`
/// (a document larger than the whole byte budget is not kept at all). A bounded cache also
/// remembers as many dangling ids as documents it may keep (see ``danglingIDCapacity``).
public struct BoundedCachePolicy<Rule: EvictionRule>: ReferenceCachePolicy {
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

    /// The rule's name with the bounds: `lru(16)`, `sieve(4096 bytes)`, `s3fifo(16, 4096 bytes)`.
    public var description: String { budget.describe(Rule.name) }

    public func makeStorage() -> any ReferenceCacheStorage {
        Rule.makeStorage(capacity: budget.capacity, maxBytes: budget.maxBytes)
    }

    /// As many dangling ids as documents may be kept: `capacity` of them, and within `maxBytes`
    /// at 12 bytes (an ObjectId) each, so the memo is bounded by the same numbers as the
    /// documents.
    public var danglingIDCapacity: Int { budget.danglingIDCapacity }
}

/// How a ``BoundedCachePolicy`` makes room: which kept document leaves when a new one would
/// exceed the budget.
///
/// The built-in rules are ``LRUEviction``, ``SieveEviction`` and ``S3FIFOEviction``. A rule of
/// the application's makes a storage that keeps the budget itself:
/// ```swift
/// enum NewestFirstEviction: EvictionRule {
///     static var name: String { "newest-first" }
///     static func makeStorage(capacity: Int?, maxBytes: Int?) -> any ReferenceCacheStorage {
///         NewestFirstStorage(capacity: capacity, maxBytes: maxBytes)
///     }
/// }
/// person.referenceCache.policy = CachePolicy(BoundedCachePolicy<NewestFirstEviction>(capacity: 8, maxBytes: nil))
/// ```
public protocol EvictionRule: Sendable {
    /// The policy's name in descriptions and statistics: `lru`.
    static var name: String { get }
    /// A new, empty storage for one parent's cache that keeps at most `capacity` documents and
    /// `maxBytes` bytes (nil: unbounded; never negative).
    static func makeStorage(capacity: Int?, maxBytes: Int?) -> any ReferenceCacheStorage
}

/// Keeps the most recently used documents within a count or a byte budget:
/// ``CachePolicy/lru(capacity:maxBytes:keep:)``.
public typealias LRUCachePolicy = BoundedCachePolicy<LRUEviction>

/// Keeps documents within a count or a byte budget, evicting as SIEVE does (see
/// ``SieveEviction``): ``CachePolicy/sieve(capacity:maxBytes:)``.
public typealias SieveCachePolicy = BoundedCachePolicy<SieveEviction>

/// Keeps documents within a count or a byte budget, evicting as S3-FIFO does (see
/// ``S3FIFOEviction``): ``CachePolicy/s3fifo(capacity:maxBytes:)``.
public typealias S3FIFOCachePolicy = BoundedCachePolicy<S3FIFOEviction>
