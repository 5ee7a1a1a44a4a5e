import TendrilDriver

/// The moments of a document's life that hooks can observe (as in MongoFrames).
public enum DocumentEvent: Sendable, Hashable, CaseIterable {
    /// Before an insert is sent; throwing cancels it.
    case beforeInsert
    /// After an insert succeeded.
    case afterInsert
    /// Before an update (a `save` of a stored document) is sent; throwing cancels it. Runs on
    /// every save of a stored document, before its changes are computed.
    case beforeUpdate
    /// After an update succeeded, also when the save had nothing to send.
    case afterUpdate
    /// Before a delete, or the queries its delete rules need, is sent; throwing cancels it.
    case beforeDelete
    /// After a delete succeeded.
    case afterDelete
}

/// A registered hook; `remove()` unregisters it.
public struct EventRegistration: Sendable {
    let type: ObjectIdentifier
    let event: DocumentEvent
    let identifier: UInt64

    /// Stops calling the hook.
    public func remove() {
        EventHooks.registry.withLock { $0[type]?[event]?.removeAll { $0.identifier == identifier } }
    }
}

/// Hooks by class and event.
enum EventHooks {
    struct Hook: Sendable {
        let identifier: UInt64
        let handler: @Sendable ([Document]) throws -> Void
    }

    static let registry = Locked<[ObjectIdentifier: [DocumentEvent: [Hook]]]>([:])
    static let nextIdentifier = Locked<UInt64>(0)

    /// Calls the hooks registered for `event` on `type` with `documents`, in registration order.
    static func emit(_ event: DocumentEvent, for type: Document.Type, _ documents: [Document]) throws {
        guard !documents.isEmpty else { return }
        let hooks = registry.withLock { $0[ObjectIdentifier(type)]?[event] ?? [] }
        for hook in hooks { try hook.handler(documents) }
    }
}

extension QueryableDocument {
    /// Calls `handler` with the affected documents whenever `event` happens to documents of this
    /// class (several at once for the bulk operations).
    ///
    /// ```swift
    /// let stamping = Person.on(.beforeUpdate) { people in
    ///     for person in people { person.updatedAt = Date() }
    /// }
    /// let guarding = Person.on(.beforeDelete) { people in
    ///     if people.contains(where: \.isAdmin) { throw PolicyError.cannotDeleteAdmins }
    /// }
    /// ```
    /// An error thrown before a write cancels it (nothing is sent); one thrown after a write
    /// reaches the caller, but the write has happened. Hooks run on the calling task, in the
    /// order they were registered. Query-level `update` and `delete` work on the server
    /// without documents and call no hooks.
    @discardableResult
    public static func on(_ event: DocumentEvent, _ handler: @escaping @Sendable ([Self]) throws -> Void) -> EventRegistration {
        let identifier = EventHooks.nextIdentifier.withLock { value in
            value += 1
            return value
        }
        let hook = EventHooks.Hook(identifier: identifier) { documents in
            try handler(documents.compactMap { $0 as? Self })
        }
        let type = ObjectIdentifier(self)
        EventHooks.registry.withLock { $0[type, default: [:]][event, default: []].append(hook) }
        return EventRegistration(type: type, event: event, identifier: identifier)
    }
}
