import TendrilDriver

/// Where a reference sequence takes its ids from, in the order it yields them.
protocol ReferenceIDSource {
    associatedtype Entry
    /// The next entry; nil at the end.
    /// - Throws: ``DocumentError`` when the stored ids cannot be read.
    mutating func next() throws -> Entry?
    /// The id an entry refers to.
    static func id(of entry: Entry) -> ObjectID
}

/// The read-ahead behind the async sequences of reference lists and dictionaries: ids are taken
/// a window at a time from their source, the window's documents resolved together through the
/// parent's cache (kept ones served, the missing fetched with one `$in` query, on Tendril's
/// threads), then handed out one by one in the source's order, duplicates included.
///
/// Memory: one window of documents, released before the next is fetched; what the cache keeps
/// of them is its policy's business. A dangling id throws at its position, after the documents
/// before it were handed out.
struct ReferenceReadAhead<Target: Document, Source: ReferenceIDSource> {
    private var source: Source
    private let cache: ReferenceCache
    private let storing: Bool
    private let access: LazyAccess
    private let windowSize: Int
    private var window: [(entry: Source.Entry, document: Target?)] = []
    private var position = 0
    private var isFinished = false

    init(_ source: Source, cache: ReferenceCache, storing: Bool, access: LazyAccess, windowSize: Int) {
        self.source = source
        self.cache = cache
        self.storing = storing
        self.windowSize = max(1, windowSize)
        var access = access
        access.peerIDLimit = self.windowSize   // peers' first windows, never their whole lists
        self.access = access
    }

    /// The next entry and its document; nil at the end, and after an error was thrown.
    /// - Throws: ``DocumentError`` `.danglingReference` at a dangling id's position;
    ///   `MongoError` when a window's fetch fails.
    nonisolated(nonsending) mutating func next() async throws -> (entry: Source.Entry, document: Target)? {
        guard !isFinished else { return nil }
        do {
            if position == window.count {
                guard try await fetchWindow() else {
                    isFinished = true
                    return nil
                }
            }
            let (entry, document) = window[position]
            position += 1
            guard let document else { throw ReferenceCache.dangling(Target.self, id: Source.id(of: entry), field: access.field) }
            return (entry, document)
        } catch {
            isFinished = true
            window = []
            throw error
        }
    }

    /// Replaces the window with the next one; false when the source is exhausted.
    private nonisolated(nonsending) mutating func fetchWindow() async throws -> Bool {
        window = []   // the documents handed out go before more are fetched: one window at a time
        position = 0
        var entries: [Source.Entry] = []
        entries.reserveCapacity(windowSize)
        while entries.count < windowSize, let entry = try source.next() { entries.append(entry) }
        guard !entries.isEmpty else { return false }
        let ids = entries.map(Source.id(of:))
        let (storing, access) = (self.storing, self.access)
        let found = try await cache.onTendrilThreads { try $0.resolve(ids, as: Target.self, storing: storing, access: access) }
        window = zip(entries, ids).map { ($0, found[$1] ?? nil) }
        return true
    }
}

/// A reference list's ids for its async sequence: read in place from the stored bytes while
/// the list is unchanged since loading (nothing decoded ahead of the window), else the current
/// list's (taken when iteration begins).
struct ReferenceListIDs: ReferenceIDSource {
    private var stored: StoredIDCursor?
    private var current: IndexingIterator<[ObjectID]>
    private let parent: Document
    private let slot: Int

    init(_ parent: Document, slot: Int) {
        self.parent = parent
        self.slot = slot
        stored = parent.storedIDCursor(at: slot)
        current = (stored == nil ? parent.referenceIDs(at: slot, default: []) : []).makeIterator()
    }

    mutating func next() throws -> ObjectID? {
        guard stored != nil else { return current.next() }
        let id = stored?.next()
        // Loading checked every element's type, so the walk stops early only on bytes that are not
        // what was loaded: an error, never a shorter list.
        if id == nil, stored?.isAtEnd == false {
            throw DocumentError(.typeMismatch(expected: "array of objectId", found: "array"),
                                collection: type(of: parent).collectionName, documentID: parent.id.map(BSONValue.objectID),
                                field: parent.fieldKey(at: slot))
        }
        return id
    }

    static func id(of entry: ObjectID) -> ObjectID { entry }
}

/// A reference dictionary's keys and ids for its async sequence, in key order (as `values`
/// returns them).
struct ReferenceDictionaryIDs: ReferenceIDSource {
    var entries: IndexingIterator<[(key: String, id: ObjectID)]>

    init(_ ids: [String: ObjectID]) {
        entries = ids.map { (key: $0.key, id: $0.value) }.sorted { $0.key < $1.key }.makeIterator()
    }

    mutating func next() -> (key: String, id: ObjectID)? { entries.next() }

    static func id(of entry: (key: String, id: ObjectID)) -> ObjectID { entry.id }
}
