import TendrilDriver

/// One memory budget and one instance per id for many parents: a reference cache they share.
///
/// Create one per request, per client or once, and have parents resolve through it with
/// ``CachePolicy/pooled(_:)``:
/// ```swift
/// let pool = ReferencePool(maxBytes: 1 << 20)               // LRU within 1 MiB of BSON
/// let people = try await Person.objects.cachePolicy(.pooled(pool)).all()
/// let a = try await people[0].$bestFriend.value             // Ada, fetched once
/// let b = try await people[1].$bestFriend.value             // the same Ada (a === b)
/// print(pool.statistics.residentBytes)                      // at most 1 MiB, for every parent
/// ```
///
/// - **Identity:** one instance per collection and id while anyone holds it: the pool keeps
///   what its budget allows, and a weak index gives every later resolver the instance the
///   application still holds. Walking Burt → Edison → Burt returns the same Burt.
/// - **One budget:** every parent using the pool keeps, together, at most the budget (exact,
///   in documents and BSON bytes, as ``statistics`` reports).
/// - **No leaks:** documents resolved through the pool resolve their own references through
///   it, never by owning each other: data cycles never become reference cycles. The pool is
///   held weakly by its documents; dropping the parents and the pool frees everything.
/// - **Concurrency:** the pool is `Sendable`; each id is fetched once at a time across all its
///   parents. The documents it gives out are shared: they may be read from several tasks, even
///   while one task saves or reloads them (a reader sees the old or the new value).
/// - **Writes:** saving a document the pool holds makes it the pool's entry at its new size;
///   deleting one evicts it and remembers its id as dangling. Writes made elsewhere (another
///   process, a raw command) are not seen until the entry is evicted or the document reloaded.
///
/// > Note: Under ``FetchMode/peers`` (the default) a peer fetch feeds the pool too: the
/// documents fetched for a parent's peers go to the pool, and an id the pool already holds, or
/// is fetching for another parent, is not fetched for them.
public final class ReferencePool: Sendable {
    /// The shared cache: the policy's storage with the identity index, the fetches in flight,
    /// the dangling ids and the counters.
    let cache: ReferenceCache
    /// `.pooled(self)`, made once.
    let policy: CachePolicy
    /// The policy whose storage decides what the pool keeps.
    let keeping: CachePolicy

    /// A pool keeping, least recently used first out, at most `capacity` documents and BSON
    /// sizes adding up to at most `maxBytes` (either, both, or neither: then it keeps every
    /// document until cleared), as documents or as their bytes.
    ///
    /// ```swift
    /// let pool = ReferencePool(capacity: 10_000, maxBytes: 8 << 20)
    /// ```
    public convenience init(capacity: Int? = nil, maxBytes: Int? = nil, keep residency: Residency = .documents) {
        if capacity == nil, maxBytes == nil, residency == .documents {
            self.init(keeping: .strong)   // no budget: the cheapest table per document
        } else {
            self.init(keeping: .lru(capacity: capacity, maxBytes: maxBytes, keep: residency))
        }
    }

    /// A pool keeping what `policy` keeps: any built-in or custom policy's storage is the pool's
    /// eviction rule and budget.
    ///
    /// ```swift
    /// let pool = ReferencePool(keeping: .sieve(maxBytes: 1 << 20))
    /// let compact = ReferencePool(keeping: .lru(maxBytes: 1 << 20, keep: .bytes))
    /// ```
    public init(keeping policy: CachePolicy) {
        let reference = PoolReference()
        self.keeping = policy
        self.policy = CachePolicy(PooledCachePolicy(reference))
        self.cache = ReferenceCache(policy: CachePolicy(PoolStoragePolicy(keeping: policy)), fetchMode: .one,
                                    settings: nil, preservesIdentity: true)
        reference.pool = self
    }

    /// What the pool keeps (resident documents and bytes: within its budget) and what it has
    /// done for all its parents (hits, misses, evictions, queries).
    public var statistics: ReferenceCacheStatistics { cache.statistics }

    /// Drops every kept document and forgets the dangling ids; instances the application still
    /// holds are no longer given to later resolvers.
    public func clear() { cache.clear() }

    /// Drops the document of class `type` with `id`, and forgets whether it was dangling.
    public func evict<Target: Document>(_ type: Target.Type, id: ObjectID) { cache.evict(type, ids: [id]) }

    /// The document of `type` with `id` through the pool: the instance it holds, else fetched
    /// from `database` (else the class's) and kept as its budget allows.
    ///
    /// ```swift
    /// let ada = try await pool.document(Person.self, id: adaID)
    /// ```
    /// - Throws: ``DocumentError`` `.danglingReference` when it does not exist; `MongoError`.
    public func document<Target: Document>(_ type: Target.Type, id: ObjectID, in database: MongoDatabase? = nil) async throws -> Target {
        let requester = ReferenceCache.Requester(fetchMode: .one, settings: settings(inheriting: database.map {
            ReferenceSettings(database: $0, policy: nil)
        }))
        return try await cache.onTendrilThreads { cache in
            guard let document = try cache.resolve([id], as: type, requester: requester)[id] ?? nil else {
                throw ReferenceCache.dangling(type, id: id, field: nil)
            }
            return document
        }
    }

    /// How many documents the weak index lists besides those kept (for tests).
    var listedCount: Int { cache.locked { (cache.storage as? PoolStorage)?.listedCount ?? 0 } }

    /// The settings of a resolution for a parent with `settings`: its database, fetch mode and
    /// peers, with this pool's policy, so the documents fetched resolve through the pool too.
    func settings(inheriting settings: ReferenceSettings?) -> ReferenceSettings {
        if let settings, (settings.policy?.base as? PooledCachePolicy)?.pool === self { return settings }
        return ReferenceSettings(database: settings?.database, policy: policy, fetchMode: settings?.fetchMode,
                                 peers: settings?.peers)
    }

    /// The pool of a document resolved through one (its references resolve through it), if alive.
    static func of(_ document: Document) -> ReferencePool? {
        (document.referenceSettings?.policy?.base as? PooledCachePolicy)?.pool
    }

    /// Called after `document` was saved or reloaded: keeps its pool's entry current.
    static func storedDidChange(_ document: Document) {
        of(document)?.cache.keepCurrent(document)
    }

    /// Called after `document` was deleted: evicts it from its pool, its id remembered as dangling.
    static func documentDidDelete(_ document: Document, id: ObjectID) {
        of(document)?.cache.forgetDeleted(document, id: id)
    }
}

/// The policy of a pool's own cache: the kept policy's storage inside a ``PoolStorage``.
struct PoolStoragePolicy: ReferenceCachePolicy {
    let keeping: CachePolicy
    var description: String { "pool(\(keeping))" }
    func makeStorage() -> any ReferenceCacheStorage { PoolStorage(keeping: keeping.base.makeStorage()) }
    var danglingIDCapacity: Int { keeping.base.danglingIDCapacity }
}
