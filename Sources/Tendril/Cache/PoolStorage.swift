import TendrilDriver

/// A storage that tells which documents it evicts, so a pool can still find them while the
/// application holds them (the LRU storage does; a pool over any other storage indexes every
/// document it is given instead).
protocol EvictionObserving: AnyObject {
    /// Called with each document evicted to make room, with its key and cost.
    var didEvict: ((ReferenceKey, Document, Int) -> Void)? { get set }
}

/// A ``ReferencePool``'s storage: what its policy keeps (the budget), and a weak index of the
/// documents it gave out and no longer keeps, so that every later resolver gets the instance
/// the application still holds (identity), while only the budget keeps anything alive.
///
/// The weak index costs nothing for documents the budget keeps: it lists a document only when
/// the budget evicts it or never admits it (a storage that does not report its evictions, or
/// keeps bytes only, has every document listed).
/// > Note: Not thread-safe beyond the weak index's own lock: the pool's cache uses it with its
/// lock held.
final class PoolStorage: ReferenceCacheStorage {
    /// What the pool's policy keeps.
    private let kept: any ReferenceCacheStorage
    /// The documents given out and not kept, weakly.
    private let live = WeakCachePolicy.WeakStorage()
    /// Whether every document is listed in the weak index (see the type's comment).
    private let listsEveryDocument: Bool
    /// Whether `kept` keeps bytes, so a hit there hydrates a copy: the live instance goes first.
    private let keepsBytes: Bool

    init(keeping kept: any ReferenceCacheStorage) {
        self.kept = kept
        self.keepsBytes = kept is CompactLRUStorage
        if kept is StrongCachePolicy.StrongStorage {
            listsEveryDocument = false   // it never evicts: what it was given, it keeps
        } else if let observed = kept as? EvictionObserving, !keepsBytes {
            listsEveryDocument = false
            observed.didEvict = { [live] key, document, cost in _ = live.store(document, for: key, cost: cost) }
        } else {
            listsEveryDocument = true
        }
    }

    var residentCount: Int { kept.residentCount }
    var residentBytes: Int { kept.residentBytes }

    func lookUp(_ key: ReferenceKey) -> ReferenceCacheLookup {
        if keepsBytes, let document = liveDocument(for: key) { return .hit(document) }
        switch kept.lookUp(key) {
        case .hit(let document): return .hit(document)
        case .expired: return liveDocument(for: key).map { .hit($0) } ?? .expired
        case .miss: return liveDocument(for: key).map { .hit($0) } ?? .miss
        }
    }

    func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey] {
        let dropped = kept.store(document, for: key, cost: cost)
        if listsEveryDocument || dropped.contains(key) { _ = live.store(document, for: key, cost: cost) }
        return dropped
    }

    @discardableResult
    func remove(_ key: ReferenceKey) -> Bool {
        let wasLive = live.remove(key)
        return kept.remove(key) || wasLive
    }

    func removeAll() {
        kept.removeAll()
        live.removeAll()
    }

    /// The instance given out under `key` that is still alive: the one kept, else the one the
    /// weak index finds. A storage keeping bytes has no instance of its own.
    func liveDocument(for key: ReferenceKey) -> Document? {
        if !keepsBytes, case .hit(let document) = kept.lookUp(key) { return document }
        if case .hit(let document) = live.lookUp(key) { return document }
        return nil
    }

    /// Whether anything is held under `key`, kept or live.
    func holds(_ key: ReferenceKey) -> Bool {
        if liveDocument(for: key) != nil { return true }
        if case .hit = kept.lookUp(key) { return true }
        return false
    }

    /// How many documents the weak index lists (for tests).
    var listedCount: Int { live.residentCount }
}
