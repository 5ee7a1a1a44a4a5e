/// What a parent's reference cache holds now and what it has done since the parent was created.
///
/// ```swift
/// let stats = person.referenceCache.statistics
/// logger.info("person holds \(stats.residentCount) documents, \(stats.residentBytes) bytes")
/// ```
public struct ReferenceCacheStatistics: Sendable, Equatable, CustomStringConvertible {
    /// Documents the cache keeps now (for `weak`, those still alive).
    public var residentCount = 0
    /// The BSON size of those documents, in bytes.
    public var residentBytes = 0
    /// Lookups served from the cache.
    public var hits = 0
    /// Lookups the cache could not serve (each fetched, or waited for a fetch already running).
    public var misses = 0
    /// Documents dropped by the policy to respect its bounds (an LRU refusing a document larger
    /// than its whole budget counts one), or because they expired.
    public var evictions = 0
    /// Queries this cache sent to fetch referenced documents (one per `$in` chunk). A query's
    /// `prefetch` sends its own queries for all its documents; they are not counted here.
    public var queries = 0
    /// Ids remembered as dangling (their documents were deleted), so that resolving them again
    /// sends no query: as many as the policy's ``ReferenceCachePolicy/danglingIDCapacity``
    /// (every one under `.strong`, the most recently used under `.lru`, none under `.none`,
    /// `.weak`, a `noCache()` access, or a custom policy that does not say), until `clear()`,
    /// the parent's `reload()`, a change of policy or an eviction of that id.
    public var danglingCount = 0

    public init() {}

    public var description: String {
        "\(residentCount) resident (\(residentBytes) bytes), \(hits) hits, \(misses) misses, "
            + "\(evictions) evictions, \(queries) queries, \(danglingCount) dangling"
    }
}
