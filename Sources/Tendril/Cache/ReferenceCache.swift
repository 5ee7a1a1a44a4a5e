import Foundation
import TendrilDriver

/// The documents a parent's references resolved to, kept as the parent's ``CachePolicy`` says.
///
/// Every ``Document`` has one, created on first use: `person.referenceCache`.
/// ```swift
/// let friends = try await person.$friends.values  // one $in query for the missing ones
/// print(person.referenceCache.statistics)          // 200 resident (...), 0 hits, 200 misses...
/// person.referenceCache.policy = .lru(capacity: 16)
/// person.referenceCache.clear()
/// ```
/// > Note: The cache is thread-safe and `Sendable`: share it (not the parent) to resolve from
/// several tasks. Concurrent resolutions of one id share one query while it runs, under every
/// policy; whether a later one queries again is the policy's business. The documents it returns
/// are shared by everyone who resolves them through this cache: their plain fields may be read
/// and their references resolved from several tasks at once; change them, or read their
/// embedded-document fields, from one task at a time.
public final class ReferenceCache: @unchecked Sendable {
    /// The most ids sent in one `$in` query; longer lists are fetched in chunks of this size.
    public static let maximumIDsPerQuery = 1000

    /// How many references the async sequence of a reference list or dictionary resolves per
    /// window (one `$in` query for those not kept), unless `readingAhead(_:)` says otherwise.
    public static let defaultReadAhead = 100

    /// A fetch in progress, which later resolvers of the same id wait for instead of querying.
    fileprivate final class Flight {
        /// nil while running; then the document (nil when dangling) or the fetch's error.
        var outcome: Result<Document?, any Error>?
    }

    // Everything below is guarded by `condition`, whose waiters are resolvers of ids another
    // thread is fetching.
    private let condition = NSCondition()
    private(set) var storage: any ReferenceCacheStorage
    private var currentPolicy: CachePolicy
    private var currentFetchMode: FetchMode
    var dangling: DanglingMemo
    private var flights: [ReferenceKey: Flight] = [:]
    var counters = ReferenceCacheStatistics()
    /// Bumped by `clear()` and policy changes, so a fetch begun before them stores nothing.
    var generation = 0
    /// The counters already reported as metrics (see ``ReferenceResolutionObservation``).
    let reportedCounters = Locked(ReferenceCacheStatistics())
    /// The pool this parent's cache resolves through (its policy is `.pooled`), if any.
    private var pooled: PooledCachePolicy?
    /// Set on a pool's own cache: a live document it holds under a key wins over one fetched
    /// again meanwhile, so every resolver gets one instance.
    let preservesIdentity: Bool

    /// Where targets are fetched from, and what documents fetched through this cache inherit.
    private var currentSettings: ReferenceSettings?

    init(policy: CachePolicy, fetchMode: FetchMode, settings: ReferenceSettings?, preservesIdentity: Bool = false) {
        self.currentPolicy = policy
        self.currentFetchMode = fetchMode
        self.storage = policy.base.makeStorage()
        self.dangling = DanglingMemo(capacity: policy.base.danglingIDCapacity)
        self.currentSettings = settings
        self.pooled = policy.base as? PooledCachePolicy
        self.preservesIdentity = preservesIdentity
    }

    /// Who a resolution is for: the parent whose mode and settings apply (a pooled parent's, when
    /// its pool's cache resolves on its behalf).
    struct Requester: Sendable {
        let fetchMode: FetchMode
        let settings: ReferenceSettings?
    }

    /// The pool's cache and the requester to resolve as, when this parent resolves through a
    /// live pool.
    private func poolRoute() -> (cache: ReferenceCache, requester: Requester)? {
        locked {
            guard let pool = pooled?.pool else { return nil }
            return (pool.cache, Requester(fetchMode: currentFetchMode, settings: pool.settings(inheriting: currentSettings)))
        }
    }

    var settings: ReferenceSettings? {
        get { locked { currentSettings } }
        set { locked { currentSettings = newValue } }
    }

    func locked<R>(_ body: () throws -> R) rethrows -> R {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    /// The policy deciding what is kept. Setting it drops every kept document and dangling id
    /// (the new policy starts empty) but keeps the counters.
    public var policy: CachePolicy {
        get { locked { currentPolicy } }
        set {
            let dropped = locked {
                defer {
                    currentPolicy = newValue
                    pooled = newValue.base as? PooledCachePolicy
                    storage = newValue.base.makeStorage()
                    dangling = DanglingMemo(capacity: newValue.base.danglingIDCapacity)
                    generation += 1
                }
                return storage
            }
            // Released after unlocking: freeing documents runs their deinits.
            _ = consume dropped
        }
    }

    /// What the parent's reference accesses do when this cache cannot serve them (see
    /// ``FetchMode``); the query's mode, else the class's ``Document/referenceFetchMode``.
    ///
    /// ```swift
    /// meeting.referenceCache.fetchMode = .raise   // this parent's lazy loads now throw
    /// ```
    public var fetchMode: FetchMode {
        get { locked { currentFetchMode } }
        set { locked { currentFetchMode = newValue } }
    }

    /// What the cache holds now and what it has done so far.
    public var statistics: ReferenceCacheStatistics {
        locked {
            var statistics = counters
            statistics.residentCount = storage.residentCount
            statistics.residentBytes = storage.residentBytes
            statistics.danglingCount = dangling.count
            return statistics
        }
    }

    /// Drops every kept document and forgets which ids were dangling; counters stay.
    public func clear() {
        let dropped = locked {
            defer {
                storage = currentPolicy.base.makeStorage()
                dangling.removeAll()
                generation += 1
            }
            return storage
        }
        _ = consume dropped   // released after unlocking, as in `policy`'s setter
    }

    /// Drops the document of class `type` with `id`, and forgets whether that id was dangling.
    public func evict<Target: Document>(_ type: Target.Type, id: ObjectID) {
        evict(type, ids: [id])
    }

    func evict(_ type: Document.Type, ids: some Collection<ObjectID>) {
        // Nothing to evict (an unset reference, an empty list): leave fetches in flight alone.
        guard !ids.isEmpty else { return }
        if let route = poolRoute() { return route.cache.evict(type, ids: ids) }
        locked {
            generation += 1   // a fetch already running must not store what is being evicted
            for id in ids {
                let key = ReferenceKey(type, id: id)
                storage.remove(key)
                dangling.remove(key)
            }
        }
    }

    /// Resolves `ids` (duplicates allowed) to documents of `Target`: kept ones from the cache,
    /// ids another thread is fetching by waiting for it, and the rest with one `$in` query per
    /// ``maximumIDsPerQuery`` ids.
    /// - Parameters:
    ///   - storing: whether fetched documents are offered to the policy (false: a per-access
    ///     `noCache()`, which still serves what is kept).
    ///   - acceptsPartial: whether a kept partial document (from a projected prefetch) serves;
    ///     otherwise it is fetched whole and replaced.
    ///   - access: the reference access resolving; under ``FetchMode/raise`` (its own mode, else
    ///     the cache's) any id the cache cannot serve is refused (nil: an explicit call on the
    ///     cache, which always fetches).
    /// - Returns: each distinct id's document, or nil for a dangling id.
    /// - Throws: `MongoError` when a query fails, ``DocumentError`` when a fetched document
    ///   does not fit `Target` (nothing fetched by that query is kept then), or
    ///   `.lazyLoadRefused` for the first id refused (nothing is fetched then).
    func resolve<Target: Document>(_ ids: [ObjectID], as type: Target.Type, storing: Bool = true,
                                   acceptsPartial: Bool = false, access: LazyAccess? = nil,
                                   requester: Requester? = nil) throws -> [ObjectID: Target?] {
        if requester == nil, let route = poolRoute() {
            return try route.cache.resolve(ids, as: type, storing: storing, acceptsPartial: acceptsPartial, access: access,
                                           requester: route.requester)
        }
        var results: [ObjectID: Target?] = [:]
        var toFetch: [ObjectID] = []
        var awaited: [(ObjectID, Flight)] = []
        var ownFlights: [ObjectID: Flight] = [:]
        var refused: ObjectID?
        var peers: PeerGroup?
        var settings: ReferenceSettings?
        let startGeneration: Int = locked {
            let requester = requester ?? Requester(fetchMode: currentFetchMode, settings: currentSettings)
            settings = requester.settings
            let mode = access.map { $0.mode ?? requester.fetchMode }
            let refusesFetching = mode == .raise
            if mode == .peers { peers = settings?.peers }
            var seen = Set<ObjectID>(minimumCapacity: ids.count)
            for id in ids where seen.insert(id).inserted {
                let key = ReferenceKey(type, id: id)
                if dangling.contains(key) {
                    counters.hits += 1
                    results[id] = .some(nil)
                    continue
                }
                switch storage.lookUp(key) {
                case .hit(let document as Target) where acceptsPartial || document.readFields({ $0.loadedSlots == nil }):
                    counters.hits += 1
                    results[id] = .some(document)
                    continue
                case .expired:
                    counters.evictions += 1
                case .hit, .miss:
                    break   // a partial document does not serve a whole resolution
                }
                counters.misses += 1
                if refusesFetching {
                    // Neither a query nor waiting for another's: the first refused id is named.
                    if refused == nil { refused = id }
                } else if let flight = flights[key] {
                    awaited.append((id, flight))
                } else {
                    let flight = Flight()
                    flights[key] = flight
                    ownFlights[id] = flight
                    toFetch.append(id)
                }
            }
            return generation
        }
        if let refused, let access { throw access.refusal(type, id: refused) }
        if !toFetch.isEmpty {
            let peerFetch = peers.flatMap { group in access.map { (group, $0) } }
            try fetch(toFetch, as: type, storing: storing, startGeneration: startGeneration, flights: ownFlights,
                      peers: peerFetch, settings: settings, into: &results)
        }
        for (id, flight) in awaited {
            let outcome = locked {
                while flight.outcome == nil { condition.wait() }
                return flight.outcome
            }
            switch outcome {
            case .success(let document as Target)?: results[id] = .some(document)
            case .success(nil)?: results[id] = .some(nil)
            case .failure(let error)?: throw error
            default: results[id] = .some(nil)
            }
        }
        return results
    }

    /// Fetches `ids` in chunks (with the same field of the parent's `peers`, when given),
    /// records each outcome in the flights and the results, and keeps what the policy keeps
    /// (unless `clear()` ran meanwhile).
    private func fetch<Target: Document>(_ ids: [ObjectID], as type: Target.Type, storing: Bool, startGeneration: Int,
                                         flights ownFlights: [ObjectID: Flight], peers: (PeerGroup, LazyAccess)?,
                                         settings: ReferenceSettings?, into results: inout [ObjectID: Target?]) throws {
        var fetched: [ObjectID: Target]
        do {
            let countQuery = { self.locked { self.counters.queries += 1 } }
            if case let (group, access)? = peers {
                fetched = try group.fetch(ids, as: type, for: self, access: access, settings: settings, didSendQuery: countQuery)
            } else {
                fetched = try ReferenceFetch.documents(ids, as: type, projection: nil, settings: settings, didSendQuery: countQuery)
            }
        } catch {
            finish(ownFlights.map { ($0.key, $0.value, Result<Document?, any Error>.failure(error)) }, type: type)
            throw error
        }
        if preservesIdentity { fetched = liveInstances(replacing: fetched, as: type) }
        // Other tasks (this cache's users, the waiters on these flights) may read them from now on.
        for document in fetched.values { document.markShared() }
        locked {
            for id in ids {
                let key = ReferenceKey(type, id: id)
                if let document = fetched[id] {
                    if storing && generation == startGeneration {
                        let cost = document.fieldStorage.stored?.byteCount ?? 0
                        counters.evictions += storage.store(document, for: key, cost: cost).count
                    }
                } else if storing && generation == startGeneration {
                    dangling.insert(key)   // as many as the policy's danglingIDCapacity (none under .none)
                }
            }
        }
        for id in ids { results[id] = .some(fetched[id]) }
        finish(ownFlights.map { ($0.key, $0.value, .success(fetched[$0.key])) }, type: type)
    }

    /// Publishes outcomes to the threads waiting for these flights.
    private func finish(_ outcomes: [(ObjectID, Flight, Result<Document?, any Error>)], type: Document.Type) {
        locked {
            for (id, flight, outcome) in outcomes {
                flight.outcome = outcome
                flights[ReferenceKey(type, id: id)] = nil
            }
            // A table grown by one long list gives its memory back: a parent must not keep it.
            if flights.isEmpty { flights = [:] }
            condition.broadcast()
        }
    }

    /// The ids a peer fetch through a pool's cache sends, each with a flight that resolvers of
    /// that id wait for instead of querying it again.
    struct PeerClaim {
        fileprivate let flights: [ObjectID: Flight]
        /// The ids claimed: those no other fetch of the pool had in flight.
        var ids: Set<ObjectID> { Set(flights.keys) }
    }

    /// On a pool's cache (nil on a parent's): claims the ids of `ids` no fetch of the pool has in
    /// flight, for a peer fetch about to send them; the others are left to the fetch running, so
    /// each id is fetched once at a time across all the pool's parents.
    func claimPeerIDs(_ ids: [ObjectID], as type: Document.Type) -> PeerClaim? {
        guard preservesIdentity else { return nil }
        return locked {
            var claimed: [ObjectID: Flight] = [:]
            for id in ids where flights[ReferenceKey(type, id: id)] == nil {
                let flight = Flight()
                flights[ReferenceKey(type, id: id)] = flight
                claimed[id] = flight
            }
            return PeerClaim(flights: claimed)
        }
    }

    /// Ends a peer fetch's claim: its waiters get the pool's instance of each document fetched
    /// (nil: dangling), or `error`.
    func finishPeerClaim<Target: Document>(_ claim: PeerClaim, fetched: [ObjectID: Target], error: (any Error)?,
                                           as type: Target.Type) {
        let live = liveInstances(replacing: fetched, as: type)
        finish(claim.flights.map { id, flight in
            (id, flight, error.map { Result<Document?, any Error>.failure($0) } ?? .success(live[id]))
        }, type: type)
    }

    /// What this cache serves of `ids` without a query: kept whole documents, and nil for ids
    /// it knows are dangling. Not counted as hits or misses: a peer fetch asks on behalf of a
    /// document nobody accessed.
    func kept<Target: Document>(_ ids: [ObjectID], as type: Target.Type) -> [ObjectID: Target?] {
        if let route = poolRoute() { return route.cache.kept(ids, as: type) }
        return locked {
            var served: [ObjectID: Target?] = [:]
            for id in ids {
                let key = ReferenceKey(type, id: id)
                if dangling.contains(key) {
                    served[id] = .some(nil)
                } else if case .hit(let document as Target) = storage.lookUp(key), document.readFields({ $0.loadedSlots == nil }) {
                    served[id] = .some(document)   // a partial one (a projected prefetch) does not serve
                }
            }
            return served
        }
    }

    /// Offers documents fetched elsewhere (a query-level prefetch) to the policy; ids without a
    /// document are remembered as dangling, as many as the policy remembers.
    func seed<Target: Document>(_ documents: [ObjectID: Target], missing: [ObjectID], as type: Target.Type) {
        if let route = poolRoute() { return route.cache.seed(documents, missing: missing, as: type) }
        let documents = preservesIdentity ? liveInstances(replacing: documents, as: type) : documents
        locked {
            for (id, document) in documents {
                document.markShared()   // other tasks may read it through this cache from now on
                let cost = document.fieldStorage.stored?.byteCount ?? 0
                counters.evictions += storage.store(document, for: ReferenceKey(type, id: id), cost: cost).count
            }
            for id in missing { dangling.insert(ReferenceKey(type, id: id)) }
        }
    }
}
