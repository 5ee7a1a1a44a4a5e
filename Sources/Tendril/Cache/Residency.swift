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

/// Evicts the least recently used document, keeping each as its BSON bytes only: the rule of
/// `.lru(capacity:maxBytes:keep: .bytes)` (see ``Residency/bytes``).
///
/// ```swift
/// Person.objects.cachePolicy(.lru(maxBytes: 1 << 20, keep: .bytes))
/// ```
public enum CompactLRUEviction: EvictionRule {
    public static let name = "lru-bytes"
    public static func makeStorage(capacity: Int?, maxBytes: Int?) -> any ReferenceCacheStorage {
        CompactLRUStorage(budget: CacheBudget(capacity: capacity, maxBytes: maxBytes))
    }
}
