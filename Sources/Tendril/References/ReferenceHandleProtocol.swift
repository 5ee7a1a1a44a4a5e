import TendrilDriver

/// What the three reference handles (``ReferenceHandle``, ``ReferenceListHandle``,
/// ``ReferenceDictionaryHandle``) share: a parent document, one of its reference fields, and
/// whether resolving keeps what it fetches. Query prefetches take any of them.
///
/// ```swift
/// try await person.$bestFriend.noCache().value                  // one access, keeping nothing
/// for try await friend in person.$friends.noCache() { ... }     // the same for a list
/// person.$friends.evict()                                       // drops the list's documents
/// Person.objects.prefetch(\.$bestFriend).prefetch(\.$friends)   // any handle's key path
/// ```
/// Only Tendril's handles conform: the underscored members are not API.
/// > Note: A handle holds its parent; use it and let it go. It is not `Sendable`: to resolve
/// from several tasks, share `person.referenceCache` instead.
public protocol ReferenceHandleProtocol: SendableMetatype {
    /// The class of the referenced documents.
    associatedtype Target: Document
    /// Not API: the parent, the field and the cache choice behind the handle.
    var _state: _ReferenceHandleState { get set }
    /// Not API: a handle on the field `state` names.
    init(_state: _ReferenceHandleState)
    /// Not API: every id the field stores in `parent` (a dictionary's in no set order).
    static func _referencedIDs(in parent: Document, slot: Int) -> [ObjectID]
}

/// Not API: the parent document, the field's slot and the cache choice of a reference handle.
public struct _ReferenceHandleState {
    let parent: Document
    let slot: Int
    var storesResolved = true
    /// Set by ``ReferenceHandleProtocol/fetching(_:)``; nil: the parent cache's mode.
    var fetchMode: FetchMode?
}

extension ReferenceHandleProtocol {
    /// The document whose field the handle resolves.
    var parent: Document { _state.parent }
    /// The field's slot in the parent's schema.
    var slot: Int { _state.slot }
    /// False after ``noCache()``: fetched documents are not kept.
    var storesResolved: Bool { _state.storesResolved }
    /// The field's stored key, for error messages.
    var field: String { parent.fieldKey(at: slot) }

    /// This handle, resolving without keeping what it fetches (documents already kept are
    /// still served).
    ///
    /// ```swift
    /// try await person.$bestFriend.noCache().value
    /// for try await friend in person.$friends.noCache() { ... }
    /// ```
    public func noCache() -> Self {
        var handle = self
        handle._state.storesResolved = false
        return handle
    }

    /// This handle, resolving under `mode` whatever the parent's cache, class or query say.
    ///
    /// ```swift
    /// try await meeting.$division.fetching(.one).value          // allowed under a .raise query
    /// for try await attendee in meeting.$attendees.fetching(.raise) { ... }
    /// ```
    public func fetching(_ mode: FetchMode) -> Self {
        var handle = self
        handle._state.fetchMode = mode
        return handle
    }

    /// Drops the field's documents from the parent's cache (and forgets dangling ids).
    ///
    /// ```swift
    /// person.$bestFriend.evict()
    /// person.$friends.evict()
    /// ```
    public func evict() {
        parent.referenceCache.evict(Target.self, ids: Self._referencedIDs(in: parent, slot: slot))
    }

    /// The document `id` refers to, through the parent's cache (blocking the thread).
    /// - Throws: ``DocumentError`` `.danglingReference`, `.lazyLoadRefused`; `MongoError`.
    func resolved(_ id: ObjectID, acceptsPartial: Bool = false) throws -> Target {
        try parent.referenceCache.resolveOne(id, as: Target.self, storing: storesResolved, access: lazyAccess,
                                             acceptsPartial: acceptsPartial)
    }

    /// The documents `ids` refer to, in order, through the parent's cache (blocking the thread).
    /// - Throws: ``DocumentError`` `.danglingReference` for the first dangling id,
    ///   `.lazyLoadRefused`; `MongoError`.
    func resolved(_ ids: [ObjectID], acceptsPartial: Bool = false) throws -> [Target] {
        try parent.referenceCache.resolveAll(ids, as: Target.self, storing: storesResolved, access: lazyAccess,
                                             acceptsPartial: acceptsPartial)
    }

    /// The document `id` refers to, like ``resolved(_:acceptsPartial:)-(ObjectID,_)``, fetched on
    /// Tendril's threads.
    func resolvedOffThread(_ id: ObjectID, acceptsPartial: Bool = false) async throws -> Target {
        let (storing, access) = (storesResolved, lazyAccess)
        return try await parent.referenceCache.onTendrilThreads {
            try $0.resolveOne(id, as: Target.self, storing: storing, access: access, acceptsPartial: acceptsPartial)
        }
    }

    /// The documents `ids` refer to, like ``resolved(_:acceptsPartial:)-([ObjectID],_)``, fetched
    /// on Tendril's threads.
    func resolvedOffThread(_ ids: [ObjectID], acceptsPartial: Bool = false) async throws -> [Target] {
        let (storing, access) = (storesResolved, lazyAccess)
        return try await parent.referenceCache.onTendrilThreads {
            try $0.resolveAll(ids, as: Target.self, storing: storing, access: access, acceptsPartial: acceptsPartial)
        }
    }
}

extension ReferenceCache {
    /// Runs `resolve`, which blocks, on Tendril's threads and hands its documents to the
    /// awaiting task (see ``UncheckedTransfer``).
    func onTendrilThreads<Value>(_ resolve: @escaping @Sendable (ReferenceCache) throws -> Value) async throws -> Value {
        try await BlockingExecutor.shared.run { [self] in UncheckedTransfer(try resolve(self)) }.value
    }
}

/// Moves a non-`Sendable` result from a Tendril thread to the task awaiting it, which is
/// suspended meanwhile: the value is never used from two threads at once.
struct UncheckedTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
