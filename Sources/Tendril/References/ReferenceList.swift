import TendrilDriver

/// A list of references to documents of `Target`, stored as an array of ObjectIds.
///
/// ```swift
/// final class Person: Document {
///     @ReferenceList<Person> var friends            // stored as "friends": [ObjectId]
/// }
/// person.friends.append(ada.id!)                    // the property is the stored ids
/// try person.$friends.append(grace)                 // or add a saved document
/// let all = try await person.$friends.values        // [Person]: one $in query for the missing
/// for try await friend in person.$friends { ... }   // in order, 100 ids per $in query
/// ```
/// Order and duplicates are kept. Resolving throws ``DocumentError/Kind/danglingReference``
/// for an id whose document was deleted.
@propertyWrapper
public struct ReferenceList<Target: Document> {
    var traits: ReferenceTraits?
    /// The stored key when it differs from the property name.
    public var customKey: String? { traits?.customKey }
    /// What deleting a referenced document does to this list.
    public var deleteRule: DeleteRule { traits?.deleteRule ?? .nothing }

    /// Declares the list: `@ReferenceList<Person>(onDelete: .pull) var friends`.
    public init(_ key: String? = nil, onDelete deleteRule: DeleteRule = .nothing) {
        self.traits = ReferenceTraits.make(customKey: key, options: [], deleteRule: deleteRule)
    }

    @available(*, unavailable, message: "@ReferenceList is only available on properties of Document subclasses")
    public var wrappedValue: [ObjectID] { get { fatalError("unavailable") } set { fatalError("unavailable") } }

    @available(*, unavailable, message: "@ReferenceList is only available on properties of Document subclasses")
    public var projectedValue: ReferenceListHandle<Target> { fatalError("unavailable") }

    /// The stored ids.
    public static subscript<Owner: Document>(
        _enclosingInstance owner: Owner,
        wrapped wrappedKeyPath: ReferenceWritableKeyPath<Owner, [ObjectID]>,
        storage storageKeyPath: ReferenceWritableKeyPath<Owner, ReferenceList<Target>>
    ) -> [ObjectID] {
        get { storedIDs(in: owner, storage: storageKeyPath) }
        set { store(newValue, in: owner, storage: storageKeyPath) }
        // Without _modify, `person.friends.append(id)` would copy the array on every call.
        _modify {
            let slot = Self.slot(in: owner, storage: storageKeyPath)
            var ids: [ObjectID] = owner.referenceIDs(at: slot, default: unset)
            yield &ids
            owner.changeFields { $0.write(ids, to: slot) }
        }
    }

    /// The handle that resolves the list: `person.$friends`.
    public static subscript<Owner: Document>(
        _enclosingInstance owner: Owner,
        projected projectedKeyPath: KeyPath<Owner, ReferenceListHandle<Target>>,
        storage storageKeyPath: ReferenceWritableKeyPath<Owner, ReferenceList<Target>>
    ) -> ReferenceListHandle<Target> {
        handle(in: owner, storage: storageKeyPath)
    }
}

extension ReferenceList: ReferenceWrapper {
    typealias Handle = ReferenceListHandle<Target>
    static var shape: ReferenceShape { .list }
    static var unset: [ObjectID] { [] }
}

/// Resolves one ``ReferenceList`` field of one parent document: `person.$friends`.
///
/// ```swift
/// let friends = try await person.$friends.values        // batched: one query for the missing
/// let first = try await person.$friends.value(at: 0)    // one
/// for try await friend in person.$friends.noCache() {}  // a window at a time, keeping nothing
/// ```
/// > Note: A handle holds its parent; it is not `Sendable` (share `person.referenceCache` to
/// resolve from several tasks).
public struct ReferenceListHandle<Target: Document>: ReferenceHandleProtocol {
    public var _state: _ReferenceHandleState
    var readAhead = ReferenceCache.defaultReadAhead

    public init(_state: _ReferenceHandleState) { self._state = _state }

    public static func _referencedIDs(in parent: Document, slot: Int) -> [ObjectID] {
        parent.referenceIDs(at: slot, default: [])
    }

    /// The stored ids, in order.
    /// > Note: Decodes the whole list (12 bytes per id); ``count`` and ``value(at:)`` do not.
    public var ids: [ObjectID] { parent.referenceIDs(at: slot, default: []) }

    /// How many references the list holds.
    /// > Note: O(1) after the first call, which indexes the stored list (see ``value(at:)``).
    public var count: Int { parent.referenceListCount(at: slot) }

    /// Every referenced document, in order (duplicates included): kept ones from the parent's
    /// cache, the others fetched on Tendril's threads with one `$in` query per
    /// ``ReferenceCache/maximumIDsPerQuery`` ids.
    ///
    /// ```swift
    /// let friends = try await person.$friends.values
    /// ```
    /// - Throws: ``DocumentError`` `.danglingReference` for the first id whose document no
    ///   longer exists; `MongoError` when a fetch fails.
    public var values: [Target] {
        get async throws { try await resolvedOffThread(ids) }
    }

    /// Every referenced document, like ``values``, fetched on the calling thread, which it blocks.
    ///
    /// ```swift
    /// let friends = try person.$friends.blockingValues()   // a script, a tool, a thread of your own
    /// ```
    /// - Throws: as ``values``.
    /// > Note: Never from `async` code, even in a synchronous closure (see
    /// ``ReferenceHandle/blockingValue()``).
    @available(*, noasync, message: "use the async twin: try await parent.$list.values")
    public func blockingValues() throws -> [Target] {
        try resolved(ids)
    }

    /// Every referenced document as prefetched with `only:` (``Partial`` documents that throw
    /// for the fields they lack); whole documents where they are kept, the missing fetched whole
    /// on Tendril's threads.
    ///
    /// ```swift
    /// let names = try await meeting.$attendees.partialValues.map { try $0.name }
    /// ```
    /// - Throws: as ``values``.
    public var partialValues: [Partial<Target>] {
        get async throws { try await resolvedOffThread(ids, acceptsPartial: true).map(Partial.init) }
    }

    /// Every referenced document as ``partialValues`` gives them, fetched on the calling thread,
    /// which it blocks.
    ///
    /// ```swift
    /// let attendees = try meeting.$attendees.blockingPartialValues()
    /// ```
    /// - Throws: as ``values``.
    @available(*, noasync, message: "use the async twin: try await parent.$list.partialValues")
    public func blockingPartialValues() throws -> [Partial<Target>] {
        try resolved(ids, acceptsPartial: true).map(Partial.init)
    }

    /// The document at `index` alone, fetched on Tendril's threads.
    ///
    /// ```swift
    /// for index in 0..<person.$friends.count {
    ///     print(try await person.$friends.value(at: index).name)   // one query per friend not kept
    /// }
    /// ```
    /// - Throws: ``DocumentError`` `.indexOutOfRange`, `.danglingReference`; `MongoError`.
    /// > Note: Finding the id costs O(1) at any index: while the list is unchanged since loading,
    /// the first positional read indexes the stored list once (4 bytes per reference, 400 KB for
    /// 100,000, kept with the parent until its stored bytes are replaced by a save, an insert,
    /// `reload()` or a delete); a changed list is read from its current value. To visit every
    /// reference, the async sequence is cheaper still: one query per window of ids.
    public func value(at index: Int) async throws -> Target {
        try await resolvedOffThread(id(at: index))
    }

    /// The document at `index` alone, like ``value(at:)``, fetched on the calling thread, which
    /// it blocks.
    ///
    /// ```swift
    /// let first = try person.$friends.blockingValue(at: 0)
    /// ```
    /// - Throws: ``DocumentError`` `.indexOutOfRange`, `.danglingReference`; `MongoError`.
    /// > Note: Finding the id costs O(1), as in ``value(at:)``.
    @available(*, noasync, message: "use the async twin: try await parent.$list.value(at:)")
    public func blockingValue(at index: Int) throws -> Target {
        try resolved(id(at: index))
    }

    /// The id at `index`, in O(1) (resolving one by one must not decode or scan the whole list
    /// for every element).
    private func id(at index: Int) throws -> ObjectID {
        guard let id = parent.objectID(inListAt: slot, index: index) else {
            throw DocumentError(.indexOutOfRange(index: index, count: count), collection: type(of: parent).collectionName,
                                documentID: parent.id.map(BSONValue.objectID), field: field)
        }
        return id
    }

    /// Appends a reference to `target`.
    /// - Throws: ``DocumentError`` `.notInserted` when `target` has no id yet.
    public func append(_ target: Target) throws {
        let id = try Document.referencedID(of: target)
        var ids = self.ids
        ids.append(id)
        parent.changeFields { $0.write(ids, to: slot) }
    }

    /// Replaces the list with references to `targets`.
    /// - Throws: ``DocumentError`` `.notInserted` when one has no id yet (nothing changes then).
    public func set(_ targets: [Target]) throws {
        let ids = try targets.map(Document.referencedID(of:))
        parent.changeFields { $0.write(ids, to: slot) }
    }

    /// This handle, whose async sequence resolves `count` references per window (default
    /// ``ReferenceCache/defaultReadAhead``, 100): one `$in` query per window for the documents
    /// the cache does not keep.
    ///
    /// ```swift
    /// for try await friend in person.$friends.readingAhead(500) { ... }   // 500 ids per query
    /// ```
    /// > Note: Memory: up to `count` fetched documents at a time. Values below 1 read one at a
    /// time; windows over ``ReferenceCache/maximumIDsPerQuery`` ids are fetched in several queries.
    public func readingAhead(_ count: Int) -> ReferenceListHandle {
        var handle = self
        handle.readAhead = count
        return handle
    }
}

extension ReferenceListHandle: AsyncSequence {
    public typealias Element = Target

    /// Resolves the references a window at a time (see ``readingAhead(_:)``): each window's
    /// documents kept by the cache are served from it, the others fetched with one `$in` query,
    /// then yielded in stored order, duplicates included. Iterates over the ids the list held
    /// when iteration began, read in place from the stored bytes (nothing decoded ahead of the
    /// window).
    ///
    /// ```swift
    /// for try await friend in person.$friends { print(friend.name) }   // 100,000 friends: 1,000 queries
    /// ```
    /// - Throws: ``DocumentError`` `.danglingReference` at a dangling id's position, after the
    ///   documents before it; `MongoError` when a window's fetch fails.
    /// > Note: Memory: one window of documents at a time; what stays afterwards is the cache
    /// policy's (`.none` keeps nothing, `.strong` everything, `.lru(capacity: n)` the last `n`).
    public struct AsyncIterator: AsyncIteratorProtocol {
        var readAhead: ReferenceReadAhead<Target, ReferenceListIDs>

        /// Runs on the caller's executor: only fetching a window moves to Tendril's threads.
        public nonisolated(nonsending) mutating func next() async throws -> Target? {
            try await readAhead.next()?.document
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(readAhead: ReferenceReadAhead(ReferenceListIDs(parent, slot: slot), cache: parent.referenceCache,
                                                    storing: storesResolved, access: lazyAccess, windowSize: readAhead))
    }
}

// The spellings before the blocking forms were named for what they do (STYLE.md rule 8).
extension ReferenceListHandle {
    /// Renamed ``blockingValues()``.
    @available(*, deprecated, renamed: "blockingValues()")
    @available(*, noasync, message: "use the async twin: try await parent.$list.values")
    public func resolve() throws -> [Target] { try blockingValues() }

    /// Renamed ``blockingValue(at:)``.
    @available(*, deprecated, renamed: "blockingValue(at:)")
    @available(*, noasync, message: "use the async twin: try await parent.$list.value(at:)")
    public func resolve(at index: Int) throws -> Target { try blockingValue(at: index) }

    /// Renamed ``blockingPartialValues()``.
    @available(*, deprecated, renamed: "blockingPartialValues()")
    @available(*, noasync, message: "use the async twin: try await parent.$list.partialValues")
    public func resolvePartial() throws -> [Partial<Target>] { try blockingPartialValues() }
}
