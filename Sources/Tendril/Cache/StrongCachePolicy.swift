/// Keeps every document offered: ``CachePolicy/strong``.
public struct StrongCachePolicy: ReferenceCachePolicy {
    public init() {}
    public var description: String { "strong" }
    public func makeStorage() -> any ReferenceCacheStorage { StrongStorage() }

    final class StrongStorage: ReferenceCacheStorage {
        private var entries: [ReferenceKey: (document: Document, cost: Int)] = [:]
        private(set) var residentBytes = 0

        func lookUp(_ key: ReferenceKey) -> ReferenceCacheLookup {
            entries[key].map { .hit($0.document) } ?? .miss
        }

        func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey] {
            residentBytes += cost - (entries[key]?.cost ?? 0)
            entries[key] = (document, cost)
            return []
        }

        func remove(_ key: ReferenceKey) -> Bool {
            guard let removed = entries.removeValue(forKey: key) else { return false }
            residentBytes -= removed.cost
            return true
        }

        func removeAll() {
            entries.removeAll()
            residentBytes = 0
        }

        var residentCount: Int { entries.count }
    }
}

/// Keeps nothing: ``CachePolicy/none``.
public struct NoCachePolicy: ReferenceCachePolicy {
    public init() {}
    public var description: String { "none" }
    public func makeStorage() -> any ReferenceCacheStorage { NoStorage() }

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

/// Keeps weak references: ``CachePolicy/weak``.
public struct WeakCachePolicy: ReferenceCachePolicy {
    public init() {}
    public var description: String { "weak" }
    public func makeStorage() -> any ReferenceCacheStorage { WeakStorage() }

    final class WeakStorage: ReferenceCacheStorage {
        private struct Entry {
            weak var document: Document?
            let cost: Int
        }
        private var entries: [ReferenceKey: Entry] = [:]

        func lookUp(_ key: ReferenceKey) -> ReferenceCacheLookup {
            guard let entry = entries[key] else { return .miss }
            guard let document = entry.document else {
                entries[key] = nil   // released by everyone else: nothing to serve
                return .miss
            }
            return .hit(document)
        }

        func store(_ document: Document, for key: ReferenceKey, cost: Int) -> [ReferenceKey] {
            pruneReleased()
            entries[key] = Entry(document: document, cost: cost)
            return []
        }

        func remove(_ key: ReferenceKey) -> Bool {
            entries.removeValue(forKey: key)?.document != nil
        }

        func removeAll() { entries.removeAll() }

        var residentCount: Int { entries.values.count { $0.document != nil } }
        var residentBytes: Int { entries.values.reduce(0) { $0 + ($1.document == nil ? 0 : $1.cost) } }

        /// Drops entries whose documents are gone, so the table stays as small as what is held.
        private func pruneReleased() {
            if entries.count >= 32 && entries.count.isMultiple(of: 32) {
                entries = entries.filter { $0.value.document != nil }
            }
        }
    }
}
