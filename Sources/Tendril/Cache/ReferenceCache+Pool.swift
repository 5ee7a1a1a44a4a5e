import TendrilDriver

// What a pool's own cache does beyond a parent's: one instance per id, and writes through
// Tendril kept current.
extension ReferenceCache {
    /// `documents` with each one replaced by the live instance this cache already holds under its
    /// id, if any (fetched again by a peer fetch or a race, the first instance stays the one).
    func liveInstances<Target: Document>(replacing documents: [ObjectID: Target], as type: Target.Type) -> [ObjectID: Target] {
        guard let identity = locked({ storage as? PoolStorage }) else { return documents }
        var result = documents
        for id in documents.keys {
            if let live = identity.liveDocument(for: ReferenceKey(type, id: id)) as? Target { result[id] = live }
        }
        return result
    }

    /// After `document` was saved: if this cache holds its id, the saved instance becomes the
    /// entry, at its new size (the budget stays exact; kept bytes are replaced).
    func keepCurrent(_ document: Document) {
        guard let id = document.id, let cost = document.readFields({ $0.stored?.byteCount }) else { return }
        let key = ReferenceKey(type(of: document), id: id)
        locked {
            guard let identity = storage as? PoolStorage, identity.holds(key) else { return }
            generation += 1   // a fetch already running must not replace the saved instance
            document.markShared()
            counters.evictions += identity.store(document, for: key, cost: cost).filter { $0 != key }.count
        }
    }

    /// After `document` was deleted: drops its entry and remembers its id as dangling (as many
    /// as the policy remembers).
    func forgetDeleted(_ document: Document, id: ObjectID) {
        let key = ReferenceKey(type(of: document), id: id)
        locked {
            generation += 1
            dangling.insert(key)
            storage.remove(key)   // the caller holds the document: no deinit runs under the lock
        }
    }
}
