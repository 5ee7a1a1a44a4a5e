import TendrilDriver

extension ReferenceCache {
    /// The document `id` refers to, for `access` (nil: an explicit call on the cache, which
    /// always fetches).
    /// - Throws: ``DocumentError`` `.danglingReference` when it no longer exists, `.lazyLoadRefused`.
    func resolveOne<Target: Document>(_ id: ObjectID, as type: Target.Type, storing: Bool, access: LazyAccess?,
                                      acceptsPartial: Bool = false) throws -> Target {
        guard let document = try observedResolve([id], as: type, storing: storing, acceptsPartial: acceptsPartial, access: access)[id] ?? nil else {
            throw Self.dangling(type, id: id, field: access?.field)
        }
        return document
    }

    /// The documents `ids` refer to, in order and with duplicates, missing ones fetched together.
    /// - Throws: ``DocumentError`` `.danglingReference` for the first id that no longer exists,
    ///   `.lazyLoadRefused`.
    func resolveAll<Target: Document>(_ ids: [ObjectID], as type: Target.Type, storing: Bool, access: LazyAccess?,
                                      acceptsPartial: Bool = false) throws -> [Target] {
        let found = try observedResolve(ids, as: type, storing: storing, acceptsPartial: acceptsPartial, access: access)
        return try ids.map { id in
            guard let document = found[id] ?? nil else { throw Self.dangling(type, id: id, field: access?.field) }
            return document
        }
    }

    /// `resolve`, under Tendril's span and reference-cache metrics.
    private func observedResolve<Target: Document>(_ ids: [ObjectID], as type: Target.Type, storing: Bool, acceptsPartial: Bool,
                                                   access: LazyAccess?) throws -> [ObjectID: Target?] {
        try ReferenceResolutionObservation.run(self, ids: ids, as: type, access: access) {
            try resolve(ids, as: type, storing: storing, acceptsPartial: acceptsPartial, access: access)
        }
    }

    static func dangling(_ type: Document.Type, id: ObjectID, field: String?) -> DocumentError {
        DocumentError(.danglingReference, collection: type.collectionName, documentID: .objectID(id), field: field)
    }
}

extension ReferenceCache {
    /// The document of `type` with `id`, from this cache or fetched on Tendril's threads.
    /// This is how several tasks resolve through one parent's cache: share the cache, which is
    /// `Sendable`, not the parent.
    ///
    /// A call that finds `id` being fetched by another waits for that fetch instead of querying,
    /// under every policy; a call made after it answered queries again unless the policy kept
    /// the document (under `.none`, always). A dangling id throws without a query when the
    /// policy remembers it (``ReferenceCachePolicy/danglingIDCapacity``).
    ///
    /// ```swift
    /// let cache = person.referenceCache
    /// let ids = person.friends
    /// try await withThrowingTaskGroup(of: String.self) { group in
    ///     for id in ids { group.addTask { try await cache.document(Person.self, id: id).name } }
    ///     ...
    /// }
    /// ```
    /// - Throws: ``DocumentError`` `.danglingReference` when it no longer exists; `MongoError`.
    public func document<Target: Document>(_ type: Target.Type, id: ObjectID) async throws -> Target {
        try await onTendrilThreads { try $0.resolveOne(id, as: type, storing: true, access: nil) }
    }

    /// The document of `type` with `id`, like ``document(_:id:)``, fetched on the calling thread,
    /// which it blocks.
    ///
    /// ```swift
    /// let friend = try cache.blockingDocument(Person.self, id: id)   // on a thread of your own
    /// ```
    /// - Throws: as ``document(_:id:)``.
    /// > Note: Never from `async` code, even in a synchronous closure (see
    /// ``ReferenceHandle/blockingValue()``).
    @available(*, noasync, message: "use the async twin: try await cache.document(_:id:)")
    public func blockingDocument<Target: Document>(_ type: Target.Type, id: ObjectID) throws -> Target {
        try resolveOne(id, as: type, storing: true, access: nil)
    }

    /// The documents of `type` with `ids`, in order, the missing ones fetched together on
    /// Tendril's threads; ids another call is fetching are waited for, not asked again.
    ///
    /// ```swift
    /// let friends = try await cache.documents(Person.self, ids: person.friends)
    /// ```
    /// - Throws: ``DocumentError`` `.danglingReference` for the first missing one; `MongoError`.
    public func documents<Target: Document>(_ type: Target.Type, ids: [ObjectID]) async throws -> [Target] {
        try await onTendrilThreads { try $0.resolveAll(ids, as: type, storing: true, access: nil) }
    }

    /// The documents of `type` with `ids`, like ``documents(_:ids:)``, fetched on the calling
    /// thread, which it blocks.
    ///
    /// ```swift
    /// let friends = try cache.blockingDocuments(Person.self, ids: ids)   // on a thread of your own
    /// ```
    /// - Throws: as ``documents(_:ids:)``.
    @available(*, noasync, message: "use the async twin: try await cache.documents(_:ids:)")
    public func blockingDocuments<Target: Document>(_ type: Target.Type, ids: [ObjectID]) throws -> [Target] {
        try resolveAll(ids, as: type, storing: true, access: nil)
    }
}

// The spellings before the blocking forms were named for what they do (STYLE.md rule 8).
extension ReferenceCache {
    /// Renamed ``blockingDocument(_:id:)``.
    @available(*, deprecated, renamed: "blockingDocument(_:id:)")
    @available(*, noasync, message: "use the async twin: try await cache.document(_:id:)")
    public func resolve<Target: Document>(_ type: Target.Type, id: ObjectID) throws -> Target {
        try blockingDocument(type, id: id)
    }

    /// Renamed ``blockingDocuments(_:ids:)``.
    @available(*, deprecated, renamed: "blockingDocuments(_:ids:)")
    @available(*, noasync, message: "use the async twin: try await cache.documents(_:ids:)")
    public func resolve<Target: Document>(_ type: Target.Type, ids: [ObjectID]) throws -> [Target] {
        try blockingDocuments(type, ids: ids)
    }
}
