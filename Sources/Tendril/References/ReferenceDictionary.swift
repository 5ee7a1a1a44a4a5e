import TendrilDriver

/// References to documents of `Target` by string key, stored as an embedded document of
/// ObjectIds.
///
/// ```swift
/// final class Team: Document {
///     @ReferenceDictionary<Person> var roles        // {"lead": ObjectId, "qa": ObjectId}
/// }
/// try team.$roles.set(ada, forKey: "lead")
/// let lead = try await team.$roles.value(forKey: "lead")   // Person?
/// let everyone = try await team.$roles.values              // [String: Person], one $in query
/// for try await (role, person) in team.$roles { }   // in key order, 100 ids per $in query
/// ```
@propertyWrapper
public struct ReferenceDictionary<Target: Document> {
    var traits: ReferenceTraits?
    /// The stored key when it differs from the property name.
    public var customKey: String? { traits?.customKey }
    /// What deleting a referenced document does to this dictionary.
    public var deleteRule: DeleteRule { traits?.deleteRule ?? .nothing }

    /// Declares the dictionary: `@ReferenceDictionary<Person>(onDelete: .nullify) var roles`.
    public init(_ key: String? = nil, onDelete deleteRule: DeleteRule = .nothing) {
        self.traits = ReferenceTraits.make(customKey: key, options: [], deleteRule: deleteRule)
    }

    @available(*, unavailable, message: "@ReferenceDictionary is only available on properties of Document subclasses")
    public var wrappedValue: [String: ObjectID] { get { fatalError("unavailable") } set { fatalError("unavailable") } }

    @available(*, unavailable, message: "@ReferenceDictionary is only available on properties of Document subclasses")
    public var projectedValue: ReferenceDictionaryHandle<Target> { fatalError("unavailable") }

    /// The stored ids by key.
    public static subscript<Owner: Document>(
        _enclosingInstance owner: Owner,
        wrapped wrappedKeyPath: ReferenceWritableKeyPath<Owner, [String: ObjectID]>,
        storage storageKeyPath: ReferenceWritableKeyPath<Owner, ReferenceDictionary<Target>>
    ) -> [String: ObjectID] {
        get { storedIDs(in: owner, storage: storageKeyPath) }
        set { store(newValue, in: owner, storage: storageKeyPath) }
        // Without _modify, `person.friends.append(id)` would copy the array on every call.
        _modify {
            let slot = Self.slot(in: owner, storage: storageKeyPath)
            var ids: [String: ObjectID] = owner.referenceIDs(at: slot, default: unset)
            yield &ids
            owner.changeFields { $0.write(ids, to: slot) }
        }
    }

    /// The handle that resolves the dictionary: `team.$roles`.
    public static subscript<Owner: Document>(
        _enclosingInstance owner: Owner,
        projected projectedKeyPath: KeyPath<Owner, ReferenceDictionaryHandle<Target>>,
        storage storageKeyPath: ReferenceWritableKeyPath<Owner, ReferenceDictionary<Target>>
    ) -> ReferenceDictionaryHandle<Target> {
        handle(in: owner, storage: storageKeyPath)
    }
}

extension ReferenceDictionary: ReferenceWrapper {
    typealias Handle = ReferenceDictionaryHandle<Target>
    static var shape: ReferenceShape { .dictionary }
    static var unset: [String: ObjectID] { [:] }
}

/// Resolves one ``ReferenceDictionary`` field of one parent document: `team.$roles`.
/// > Note: A handle holds its parent; it is not `Sendable`.
public struct ReferenceDictionaryHandle<Target: Document>: ReferenceHandleProtocol {
    public var _state: _ReferenceHandleState
    var readAhead = ReferenceCache.defaultReadAhead

    public init(_state: _ReferenceHandleState) { self._state = _state }

    public static func _referencedIDs(in parent: Document, slot: Int) -> [ObjectID] {
        Array(parent.referenceIDs(at: slot, default: [String: ObjectID]()).values)
    }

    /// The stored ids by key.
    public var ids: [String: ObjectID] { parent.referenceIDs(at: slot, default: [:]) }

    /// Every referenced document by key, the missing ones fetched together on Tendril's threads.
    ///
    /// ```swift
    /// for (role, person) in try await team.$roles.values { print(role, person.name) }
    /// ```
    /// - Throws: ``DocumentError`` `.danglingReference`; `MongoError`.
    public var values: [String: Target] {
        get async throws {
            let (keys, ids) = keysAndIDs()
            return Dictionary(uniqueKeysWithValues: zip(keys, try await resolvedOffThread(ids)))
        }
    }

    /// Every referenced document by key, like ``values``, fetched on the calling thread, which
    /// it blocks.
    ///
    /// ```swift
    /// let everyone = try team.$roles.blockingValues()   // a script, a tool, a thread of your own
    /// ```
    /// - Throws: as ``values``.
    /// > Note: Never from `async` code, even in a synchronous closure (see
    /// ``ReferenceHandle/blockingValue()``).
    @available(*, noasync, message: "use the async twin: try await parent.$dictionary.values")
    public func blockingValues() throws -> [String: Target] {
        let (keys, ids) = keysAndIDs()
        return Dictionary(uniqueKeysWithValues: zip(keys, try resolved(ids)))
    }

    /// The keys in order and the id under each, for resolving them together.
    private func keysAndIDs() -> (keys: [String], ids: [ObjectID]) {
        let ids = self.ids
        let keys = ids.keys.sorted()
        return (keys, keys.compactMap { ids[$0] })
    }

    /// The document under `key`, or nil when the dictionary has no such key, fetched on
    /// Tendril's threads.
    ///
    /// ```swift
    /// let lead = try await team.$roles.value(forKey: "lead")
    /// ```
    /// - Throws: ``DocumentError`` `.danglingReference`; `MongoError`.
    public func value(forKey key: String) async throws -> Target? {
        guard let id = ids[key] else { return nil }
        return try await resolvedOffThread(id)
    }

    /// The document under `key`, like ``value(forKey:)``, fetched on the calling thread, which it
    /// blocks.
    ///
    /// ```swift
    /// let lead = try team.$roles.blockingValue(forKey: "lead")
    /// ```
    /// - Throws: as ``value(forKey:)``.
    @available(*, noasync, message: "use the async twin: try await parent.$dictionary.value(forKey:)")
    public func blockingValue(forKey key: String) throws -> Target? {
        guard let id = ids[key] else { return nil }
        return try resolved(id)
    }

    /// Points `key` at `target` (nil removes the key).
    /// - Throws: ``DocumentError`` `.notInserted` when `target` has no id yet.
    public func set(_ target: Target?, forKey key: String) throws {
        var ids = self.ids
        ids[key] = try target.map(Document.referencedID(of:))
        parent.changeFields { $0.write(ids, to: slot) }
    }

    /// This handle, whose async sequence resolves `count` references per window (default
    /// ``ReferenceCache/defaultReadAhead``, 100), as ``ReferenceListHandle/readingAhead(_:)``.
    ///
    /// ```swift
    /// for try await (role, person) in team.$roles.readingAhead(500) { ... }
    /// ```
    public func readingAhead(_ count: Int) -> ReferenceDictionaryHandle {
        var handle = self
        handle.readAhead = count
        return handle
    }
}

extension ReferenceDictionaryHandle: AsyncSequence {
    public typealias Element = (key: String, value: Target)

    /// Resolves the references a window at a time, in key order (as ``values`` returns
    /// them), as a list's sequence does (see ``ReferenceListHandle/AsyncIterator``): one `$in`
    /// query per window for the documents the cache does not keep, two keys naming one id each
    /// yielded.
    ///
    /// ```swift
    /// for try await (role, person) in team.$roles { print(role, person.name) }
    /// ```
    /// - Throws: ``DocumentError`` `.danglingReference` at a dangling id's key, after the keys
    ///   before it; `MongoError` when a window's fetch fails.
    /// > Note: Memory: the keys and ids (taken when iteration begins) and one window of documents.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var readAhead: ReferenceReadAhead<Target, ReferenceDictionaryIDs>

        /// Runs on the caller's executor: only fetching a window moves to Tendril's threads.
        public nonisolated(nonsending) mutating func next() async throws -> (key: String, value: Target)? {
            guard let (entry, document) = try await readAhead.next() else { return nil }
            return (entry.key, document)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(readAhead: ReferenceReadAhead(ReferenceDictionaryIDs(ids), cache: parent.referenceCache,
                                                    storing: storesResolved, access: lazyAccess, windowSize: readAhead))
    }
}

// The spellings before the blocking forms were named for what they do (STYLE.md rule 8).
extension ReferenceDictionaryHandle {
    /// Renamed ``blockingValues()``.
    @available(*, deprecated, renamed: "blockingValues()")
    @available(*, noasync, message: "use the async twin: try await parent.$dictionary.values")
    public func resolve() throws -> [String: Target] { try blockingValues() }

    /// Renamed ``blockingValue(forKey:)``.
    @available(*, deprecated, renamed: "blockingValue(forKey:)")
    @available(*, noasync, message: "use the async twin: try await parent.$dictionary.value(forKey:)")
    public func resolve(_ key: String) throws -> Target? { try blockingValue(forKey: key) }
}
