/// What a cache or a pool keeps of each document it keeps: the document itself, or only its
/// BSON bytes, hydrated into a new instance on every access.
///
/// ```swift
/// Person.objects.cachePolicy(.lru(maxBytes: 1 << 20, keep: .bytes))   // about 1.1x the BSON
/// let pool = ReferencePool(keeping: .lru(maxBytes: 1 << 20, keep: .bytes))
/// ```
/// > Note: Under ``bytes`` identity does not hold for kept entries: two accesses of one id get
/// two instances (a pool still gives out the instance the application holds, while it holds
/// it). Each access costs a hydration (about 0.5 µs for a small document), and a change made to
/// an instance is not seen by the next access until it is saved.
public enum Residency: Sendable, Equatable {
    /// The documents themselves: a hit returns the kept instance (the default).
    case documents
    /// The documents' BSON bytes only: retained memory stays within about 1.15x the BSON kept.
    case bytes
}

extension CachePolicy {
    /// Keeps the `capacity` most recently used documents as ``Residency`` says: ``Residency/bytes``
    /// keeps only their BSON and hydrates each access.
    ///
    /// ```swift
    /// person.referenceCache.policy = .lru(capacity: 500, keep: .bytes)
    /// ```
    public static func lru(capacity: Int, keep residency: Residency) -> CachePolicy {
        CachePolicy(LRUCachePolicy(capacity: capacity, maxBytes: nil, keep: residency))
    }

    /// Keeps the most recently used documents whose BSON sizes add up to at most `maxBytes`
    /// (exactly), as ``Residency`` says: ``Residency/bytes`` keeps only their BSON (memory about
    /// 1.1x `maxBytes` at most) and hydrates a new instance on each access.
    ///
    /// ```swift
    /// Person.objects.cachePolicy(.lru(maxBytes: 1 << 20, keep: .bytes))
    /// ```
    /// > Note: Identity does not hold for entries kept as bytes: each access is a new instance.
    public static func lru(maxBytes: Int, keep residency: Residency) -> CachePolicy {
        CachePolicy(LRUCachePolicy(capacity: nil, maxBytes: maxBytes, keep: residency))
    }
}
