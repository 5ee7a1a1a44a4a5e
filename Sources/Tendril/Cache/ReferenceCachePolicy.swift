import TendrilDriver

/// Decides which resolved documents a parent's ``ReferenceCache`` keeps: the built-in policies
/// (``CachePolicy/strong``, ``CachePolicy/none``, ``CachePolicy/lru(capacity:maxBytes:keep:)``,
/// ``CachePolicy/sieve(capacity:maxBytes:)``, ``CachePolicy/s3fifo(capacity:maxBytes:)``,
/// ``CachePolicy/weak``) implement it, and so can an
/// application.
///
/// A policy is a value shared by many parents; each parent's cache asks it for a storage of
/// its own with ``makeStorage()``. The contract of that storage is
/// ``ReferenceCacheStorage``'s. A policy also says how many dangling ids a cache remembers
/// (``danglingIDCapacity``: none unless it says otherwise).
///
/// ```swift
/// /// Keeps each document for a fixed time after it was fetched.
/// struct TimeToLivePolicy: ReferenceCachePolicy {
///     let seconds: Double
///     var description: String { "ttl(\(seconds)s)" }
///     func makeStorage() -> any ReferenceCacheStorage { TimeToLiveStorage(seconds: seconds) }
/// }
/// person.referenceCache.policy = CachePolicy(TimeToLivePolicy(seconds: 60))
/// ```
public protocol ReferenceCachePolicy: Sendable, CustomStringConvertible {
    /// A new, empty storage for one parent's cache.
    func makeStorage() -> any ReferenceCacheStorage

    /// How many dangling ids (ids whose documents were not found) one parent's cache remembers,
    /// so that resolving one of them again throws `danglingReference` without a query; beyond
    /// it, the least recently used is forgotten. 0 (the default) remembers none: every
    /// resolution of a dangling id asks the database again, and a document stored again under
    /// that id is found at once. `Int.max` never forgets for room.
    ///
    /// ```swift
    /// struct TimeToLivePolicy: ReferenceCachePolicy {
    ///     var danglingIDCapacity: Int { 1_000 }   // ids only, never documents
    ///     ...
    /// }
    /// ```
    /// > Note: The memo holds ids, never documents. It is emptied by `clear()`, `reload()` and a
    /// change of policy, and loses an id when that id is evicted; a document stored again
    /// under a remembered id is not seen until then.
    var danglingIDCapacity: Int { get }

    /// Whether a document offered to the storage may be kept when nobody else holds it. Under
    /// ``FetchMode/peers`` a document's siblings are fetched for only when their caches keep
    /// what they are given: false (``CachePolicy/none``, ``CachePolicy/weak``) spares the fetch.
    ///
    /// ```swift
    /// struct DiscardingPolicy: ReferenceCachePolicy {
    ///     var keepsFetchedDocuments: Bool { false }   // peers never fetch on its behalf
    ///     ...
    /// }
    /// ```
    var keepsFetchedDocuments: Bool { get }
}

extension ReferenceCachePolicy {
    /// Remembers no dangling id: a policy keeps what it says it keeps, and nothing more.
    public var danglingIDCapacity: Int { 0 }

    /// True: a policy keeps what it is given unless it says otherwise.
    public var keepsFetchedDocuments: Bool { true }
}

/// The documents one parent's cache keeps, as its policy decides.
///
/// The contract:
/// - The cache calls these methods with its lock held: never from two threads at once, so an
///   implementation needs no locking, and must not call back into the cache.
/// - ``store(_:for:cost:)`` offers every document the cache fetched (when the access stores);
///   the storage keeps it or not and returns the keys of the entries it dropped to make room,
///   the offered key included when it keeps nothing; the cache counts those as evictions.
/// - ``lookUp(_:)`` answers ``ReferenceCacheLookup/hit(_:)`` only with the very document stored
///   under that key; it may update recency. An entry dropped on lookup (expired) is reported
///   as ``ReferenceCacheLookup/expired`` and counted as an eviction.
/// - ``residentCount`` and ``residentBytes`` describe what is reachable from the storage now
///   (the sum of the costs of kept documents): they are what `statistics` reports.
public protocol ReferenceCacheStorage: AnyObject {
    /// The document kept under `key`, if any.
    func lookUp(_ key: ReferenceKey) -> ReferenceCacheLookup
    /// Offers a document just fetched, with its cost (its BSON size in bytes).
    /// - Returns: the keys of the entries dropped, the offered one included if it is not kept.
    func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey]
    /// Drops the entry under `key`; returns whether one was kept.
    @discardableResult
    func remove(_ key: ReferenceKey) -> Bool
    /// Drops every entry.
    func removeAll()
    /// How many documents are kept.
    var residentCount: Int { get }
    /// The sum of the costs of the kept documents.
    var residentBytes: Int { get }
}

/// What a ``ReferenceCacheStorage`` holds under a key.
public enum ReferenceCacheLookup {
    /// The document stored under the key.
    case hit(Document)
    /// Nothing is kept under the key.
    case miss
    /// An entry was kept but the storage has just dropped it (it expired, say).
    case expired
}

/// The key of a resolved document in a cache: its collection and its `_id`.
public struct ReferenceKey: Hashable, Sendable, CustomStringConvertible {
    /// The class the document was created as: two classes mapped to one collection get two
    /// entries. (Kept as a metatype, not a collection name, so making a key costs no string.)
    public let documentType: Document.Type
    /// The referenced document's `_id`.
    public let id: ObjectID

    /// The key of the document of class `type` with `id` (to test or benchmark a storage).
    public init(_ type: Document.Type, id: ObjectID) {
        self.documentType = type
        self.id = id
    }

    /// The collection of the referenced document.
    public var collection: String { documentType.collectionName }

    public static func == (lhs: ReferenceKey, rhs: ReferenceKey) -> Bool {
        lhs.id == rhs.id && lhs.documentType == rhs.documentType
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(ObjectIdentifier(documentType))
    }

    public var description: String { "\(collection)/\(id)" }
}

/// A cache policy, as set globally, per class, per query or per parent.
///
/// ```swift
/// CachePolicy.default = .lru(capacity: 64)                       // the whole program
/// final class Person: Document {
///     override class var referenceCachePolicy: CachePolicy { .weak }  // one class
/// }
/// Person.objects.cachePolicy(.lru(capacity: 32))                  // one query's documents
/// person.referenceCache.policy = .none                            // one parent
/// for try await friend in person.$friends.noCache() { ... }      // one access
/// ```
public struct CachePolicy: Sendable, CustomStringConvertible {
    /// The policy behind this value.
    public let base: any ReferenceCachePolicy

    /// Wraps a policy of the application's.
    public init(_ policy: some ReferenceCachePolicy) {
        self.base = policy
    }

    /// Keeps every resolved document until the parent dies, is reloaded or cleared: re-access
    /// never queries, and the parent grows with each distinct document it resolves. It
    /// remembers every dangling id as well. MongoEngine's behaviour, and the default.
    public static let strong = CachePolicy(StrongCachePolicy())

    /// Keeps nothing: every access fetches (a dangling id too: nothing is remembered), and the
    /// parent never grows. Resolutions running at the same time still share a fetch in flight.
    public static let none = CachePolicy(NoCachePolicy())

    /// Keeps weak references only: a resolved document is served from the cache exactly as long
    /// as something else holds it, so the parent never keeps a document alive. Nobody holds a
    /// missing document, so no dangling id is remembered either.
    public static let weak = CachePolicy(WeakCachePolicy())

    /// Keeps the most recently used documents within `capacity` documents, `maxBytes` BSON
    /// bytes, or both, evicting the least recently used. The byte budget is exact: a document
    /// larger than all of it is not kept at all. Remembers as many dangling ids: `capacity`, and
    /// within `maxBytes` at 12 bytes (an ObjectId) each.
    ///
    /// ```swift
    /// person.referenceCache.policy = .lru(capacity: 64)
    /// Person.objects.cachePolicy(.lru(maxBytes: 256 * 1024))
    /// ```
    ///
    /// `keep: .bytes` keeps each document as its BSON only (about 1.1x it) and hydrates a new
    /// instance on each access, with no query (see ``Residency``):
    /// ```swift
    /// Person.objects.cachePolicy(.lru(maxBytes: 1 << 20, keep: .bytes))
    /// ```
    /// > Note: With neither bound it keeps everything, like ``strong``.
    public static func lru(capacity: Int? = nil, maxBytes: Int? = nil, keep residency: Residency = .documents) -> CachePolicy {
        switch residency {
        case .documents: CachePolicy(LRUCachePolicy(capacity: capacity, maxBytes: maxBytes))
        case .bytes: CachePolicy(BoundedCachePolicy<CompactLRUEviction>(capacity: capacity, maxBytes: maxBytes))
        }
    }

    /// Keeps documents within `capacity`, `maxBytes` or both (exactly, like
    /// ``lru(capacity:maxBytes:keep:)``), evicting as SIEVE does (NSDI '24): one FIFO queue, a hit
    /// marks a document visited, and a hand sweeping from the oldest towards the newest evicts
    /// the first not visited, clearing marks on its way. Remembers dangling ids as
    /// ``lru(capacity:maxBytes:keep:)`` does.
    ///
    /// ```swift
    /// Person.objects.cachePolicy(.sieve(capacity: 64))
    /// person.referenceCache.policy = .sieve(maxBytes: 256 * 1024)
    /// ```
    /// > Note: A hit moves nothing, so documents read over and over stay while documents read
    /// once leave first: on skewed access it usually misses less than LRU.
    public static func sieve(capacity: Int? = nil, maxBytes: Int? = nil) -> CachePolicy {
        CachePolicy(SieveCachePolicy(capacity: capacity, maxBytes: maxBytes))
    }

    /// Keeps documents within `capacity`, `maxBytes` or both (exactly), evicting as S3-FIFO does
    /// (SOSP '23): new documents wait in a small FIFO (a tenth of the room) and move to the main
    /// FIFO only if hit there; the ids of those that left unhit are remembered in a ghost FIFO,
    /// and such an id fetched again goes straight to the main FIFO. Remembers dangling ids as
    /// ``lru(capacity:maxBytes:keep:)`` does.
    ///
    /// ```swift
    /// Person.objects.cachePolicy(.s3fifo(capacity: 64))
    /// person.referenceCache.policy = .s3fifo(maxBytes: 256 * 1024)
    /// ```
    /// > Note: The ghost keeps ids, never documents: up to about `capacity` of them, or those of
    /// recently evicted documents whose sizes add up to at most the main FIFO's share of
    /// `maxBytes`.
    public static func s3fifo(capacity: Int? = nil, maxBytes: Int? = nil) -> CachePolicy {
        CachePolicy(S3FIFOCachePolicy(capacity: capacity, maxBytes: maxBytes))
    }

    /// The policy of parents whose class and query set none; ``strong`` unless changed.
    /// > Note: Set it at start-up; parents whose cache already exists keep their policy.
    public static var `default`: CachePolicy {
        get { programDefault.withLock { $0 } }
        set { programDefault.withLock { $0 = newValue } }
    }
    private static let programDefault = Locked(CachePolicy.strong)

    /// The policy's name: `strong`, `none`, `weak`, `lru(16)`, `lru(4096 bytes)`, `sieve(16)`,
    /// `s3fifo(4096 bytes)`, or a custom one's.
    public var description: String { base.description }
}
