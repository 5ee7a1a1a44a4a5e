import Foundation

/// Keeps every document offered: ``CachePolicy/strong``.
public struct StrongCachePolicy: ReferenceCachePolicy {
    public init() {}
    public var description: String { "strong" }
    public func makeStorage() -> any ReferenceCacheStorage { StrongStorage() }
    /// Every dangling id, like every document: until `clear()`, `reload()` or an eviction.
    public var danglingIDCapacity: Int { .max }

    /// One table per document class, keyed by ObjectId alone and holding the document alone
    /// (24 bytes a slot): this table is most of what a strong cache adds to each document it
    /// keeps. A document's cost is its BSON size when fetched, which it records itself.
    final class StrongStorage: ReferenceCacheStorage {
        private var tables: [ObjectIdentifier: [ObjectID: Document]] = [:]
        private(set) var residentBytes = 0
        private(set) var residentCount = 0

        func lookUp(_ key: ReferenceKey) -> ReferenceCacheLookup {
            tables[ObjectIdentifier(key.documentType)]?[key.id].map { .hit($0) } ?? .miss
        }

        func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey] {
            let previous = tables[ObjectIdentifier(key.documentType), default: [:]].updateValue(document, forKey: key.id)
            residentBytes += Int(document.fetchedByteCount) - Int(previous?.fetchedByteCount ?? 0)
            if previous == nil { residentCount += 1 }
            return []
        }

        func remove(_ key: ReferenceKey) -> Bool {
            guard let removed = tables[ObjectIdentifier(key.documentType)]?.removeValue(forKey: key.id) else { return false }
            residentBytes -= Int(removed.fetchedByteCount)
            residentCount -= 1
            return true
        }

        func removeAll() {
            tables.removeAll()
            residentBytes = 0
            residentCount = 0
        }
    }
}

/// Keeps nothing: ``CachePolicy/none``. It remembers no dangling id either (the protocol's
/// default): every resolution asks the database, so an answer is never stale and the parent
/// never grows.
public struct NoCachePolicy: ReferenceCachePolicy {
    public init() {}
    public var description: String { "none" }
    public func makeStorage() -> any ReferenceCacheStorage { NoStorage() }
    /// False: what it is given is dropped at once.
    public var keepsFetchedDocuments: Bool { false }

    final class NoStorage: ReferenceCacheStorage {
        func lookUp(_ key: ReferenceKey) -> ReferenceCacheLookup { .miss }
        // Refusing a document is not an eviction: nothing was ever kept.
        func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey] { [] }
        func remove(_ key: ReferenceKey) -> Bool { false }
        func removeAll() {}
        var residentCount: Int { 0 }
        var residentBytes: Int { 0 }
    }
}

/// Keeps weak references: ``CachePolicy/weak``. It remembers no dangling id (the protocol's
/// default): a weak cache serves only what someone else holds, and nobody holds a missing
/// document (the weak storage's size follows the application's, with no memo growing beside it).
public struct WeakCachePolicy: ReferenceCachePolicy {
    public init() {}
    public var description: String { "weak" }
    public func makeStorage() -> any ReferenceCacheStorage { WeakStorage() }
    /// False: a document fetched for a sibling nobody holds would be freed at once.
    public var keepsFetchedDocuments: Bool { false }

    /// Entries are removed when their document is freed (the document tells its observers from
    /// its deinit), so released documents leave nothing behind, not even a tombstone.
    final class WeakStorage: ReferenceCacheStorage, @unchecked Sendable {
        private struct Entry {
            weak var document: Document?
            let cost: Int
        }
        // Guarded by `lock`, a leaf lock: a document's deinit, on any thread, removes its entry
        // without taking the cache's lock.
        private let lock = NSLock()
        private var entries: [ReferenceKey: Entry] = [:]
        private var bytes = 0

        private func locked<R>(_ body: () -> R) -> R {
            lock.lock()
            defer { lock.unlock() }
            return body()
        }

        func lookUp(_ key: ReferenceKey) -> ReferenceCacheLookup {
            locked { entries[key]?.document }.map { .hit($0) } ?? .miss
        }

        func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey] {
            let isNew: Bool = locked {
                let previous = entries[key]
                bytes += cost - (previous?.cost ?? 0)
                entries[key] = Entry(document: document, cost: cost)
                return previous?.document !== document
            }
            // Listed once per storage and key, however often the same document is offered.
            if isNew { document.observeDeinit(DeinitObserver(storage: self, key: key)) }
            return []
        }

        func remove(_ key: ReferenceKey) -> Bool {
            locked {
                guard let entry = entries.removeValue(forKey: key) else { return false }
                bytes -= entry.cost
                return entry.document != nil
            }
        }

        func removeAll() {
            locked {
                entries.removeAll()
                bytes = 0
            }
        }

        var residentCount: Int { locked { entries.count } }
        var residentBytes: Int { locked { bytes } }

        /// Removes `key`'s entry if its document is gone (a newer document under the same key
        /// stays).
        func documentDidDeinit(_ key: ReferenceKey) {
            locked {
                guard let entry = entries[key], entry.document == nil else { return }
                entries[key] = nil
                bytes -= entry.cost
                // A table emptied by releases gives its memory back.
                if entries.isEmpty { entries = [:] }
            }
        }

        /// What a document tells when it is freed: the weak storages that listed it.
        final class DeinitObserver: DocumentDeinitObserver {
            weak var storage: WeakStorage?
            let key: ReferenceKey
            init(storage: WeakStorage, key: ReferenceKey) {
                self.storage = storage
                self.key = key
            }
            func documentDidDeinit() { storage?.documentDidDeinit(key) }
        }
    }
}
