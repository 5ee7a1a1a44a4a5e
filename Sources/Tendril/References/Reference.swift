import TendrilDriver

/// A reference to one document of `Target`, stored as its ObjectId.
///
/// ```swift
/// final class Person: Document {
///     @Field var name = ""
///     @Reference<Person> var bestFriend          // stored as "bestFriend": ObjectId or absent
/// }
/// person.bestFriend = ada.id                      // the property is the stored id
/// try person.$bestFriend.set(ada)                 // or set from a saved document
/// let friend = try await person.$bestFriend.value // Person?, through person's cache
/// let same = try person.$bestFriend.blockingValue() // the same, blocking the calling thread
/// ```
/// The property itself is the stored `ObjectID?`, which reading never fails; resolving is done on
/// the projected handle (``ReferenceHandle``), where it can throw. An unset reference resolves
/// to nil; a dangling one (its document deleted) throws ``DocumentError/Kind/danglingReference``.
@propertyWrapper
public struct Reference<Target: Document> {
    var traits: ReferenceTraits?
    /// The stored key when it differs from the property name.
    public var customKey: String? { traits?.customKey }
    /// The field's options (`.required`: it must be set when saved and when loaded).
    public var options: FieldOptions { traits?.options ?? [] }
    /// What deleting the referenced document does to this one.
    public var deleteRule: DeleteRule { traits?.deleteRule ?? .nothing }

    /// Declares the reference: `@Reference<Person>("bf", onDelete: .nullify) var bestFriend`.
    public init(_ key: String? = nil, _ options: FieldOptions = [], onDelete deleteRule: DeleteRule = .nothing) {
        self.traits = ReferenceTraits.make(customKey: key, options: options, deleteRule: deleteRule)
    }

    @available(*, unavailable, message: "@Reference is only available on properties of Document subclasses")
    public var wrappedValue: ObjectID? { get { fatalError("unavailable") } set { fatalError("unavailable") } }

    @available(*, unavailable, message: "@Reference is only available on properties of Document subclasses")
    public var projectedValue: ReferenceHandle<Target> { fatalError("unavailable") }

    /// The stored id.
    public static subscript<Owner: Document>(
        _enclosingInstance owner: Owner,
        wrapped wrappedKeyPath: ReferenceWritableKeyPath<Owner, ObjectID?>,
        storage storageKeyPath: ReferenceWritableKeyPath<Owner, Reference<Target>>
    ) -> ObjectID? {
        get { storedIDs(in: owner, storage: storageKeyPath) }
        set { store(newValue, in: owner, storage: storageKeyPath) }
    }

    /// The handle that resolves the reference: `person.$bestFriend`.
    public static subscript<Owner: Document>(
        _enclosingInstance owner: Owner,
        projected projectedKeyPath: KeyPath<Owner, ReferenceHandle<Target>>,
        storage storageKeyPath: ReferenceWritableKeyPath<Owner, Reference<Target>>
    ) -> ReferenceHandle<Target> {
        handle(in: owner, storage: storageKeyPath)
    }
}

extension Reference: ReferenceWrapper {
    typealias Handle = ReferenceHandle<Target>
    static var shape: ReferenceShape { .single }
    static var unset: ObjectID? { nil }
}

/// Resolves one ``Reference`` field of one parent document: `person.$bestFriend`.
///
/// ```swift
/// if let friend = try await person.$bestFriend.value { print(friend.name) }
/// ```
/// > Note: A handle holds its parent; use it and let it go. It is not `Sendable`: to resolve
/// from several tasks, share `person.referenceCache` instead.
public struct ReferenceHandle<Target: Document>: ReferenceHandleProtocol {
    public var _state: _ReferenceHandleState

    public init(_state: _ReferenceHandleState) { self._state = _state }

    public static func _referencedIDs(in parent: Document, slot: Int) -> [ObjectID] {
        parent.referenceIDs(at: slot, default: ObjectID?.none).map { [$0] } ?? []
    }

    /// The stored id (nil when unset).
    public var id: ObjectID? { parent.referenceIDs(at: slot, default: ObjectID?.none) }

    /// The referenced document, from the parent's cache or fetched on Tendril's threads.
    ///
    /// ```swift
    /// if let friend = try await person.$bestFriend.value { print(friend.name) }
    /// ```
    /// - Returns: nil when the reference is unset.
    /// - Throws: ``DocumentError`` `.danglingReference` (naming the collection and id) when the
    ///   document no longer exists, or a type error; `MongoError` when the fetch fails.
    public var value: Target? {
        get async throws {
            guard let id else { return nil }
            return try await resolvedOffThread(id)
        }
    }

    /// The referenced document, like ``value``, fetched on the calling thread, which it blocks.
    ///
    /// ```swift
    /// let friend = try person.$bestFriend.blockingValue()   // a script, a tool, a thread of your own
    /// ```
    /// - Throws: as ``value``.
    /// > Note: The name says it blocks because the compiler cannot always: it refuses the call
    /// in `async` code, but not in a synchronous closure run from `async` code
    /// (`parents.map { try $0.$bestFriend.blockingValue() }`), where it would hold one of Swift's
    /// cooperative threads for a network round trip.
    @available(*, noasync, message: "use the async twin: try await parent.$reference.value")
    public func blockingValue() throws -> Target? {
        guard let id else { return nil }
        return try resolved(id)
    }

    /// The referenced document as prefetched with `only:` (a ``Partial`` that throws for the
    /// fields it lacks); a whole document when one is kept, or fetched whole when none is.
    ///
    /// ```swift
    /// let room = try await meeting.$room.partialValue   // prefetched with only: [\.$name]
    /// print(try room?.name ?? "-")
    /// ```
    /// - Throws: as ``value``.
    public var partialValue: Partial<Target>? {
        get async throws {
            guard let id else { return nil }
            return Partial(try await resolvedOffThread(id, acceptsPartial: true))
        }
    }

    /// The referenced document as ``partialValue`` gives it, fetched on the calling thread,
    /// which it blocks.
    ///
    /// ```swift
    /// let room = try meeting.$room.blockingPartialValue()
    /// ```
    /// - Throws: as ``value``.
    /// > Note: As ``blockingValue()``: never from `async` code, even in a synchronous closure.
    @available(*, noasync, message: "use the async twin: try await parent.$reference.partialValue")
    public func blockingPartialValue() throws -> Partial<Target>? {
        guard let id else { return nil }
        return Partial(try resolved(id, acceptsPartial: true))
    }

    /// Points the reference at `target` (nil unsets it).
    /// - Throws: ``DocumentError`` `.notInserted` when `target` has no id yet.
    public func set(_ target: Target?) throws {
        let id = try target.map(Document.referencedID(of:))
        parent.changeFields { $0.write(id, to: slot) }
    }
}

// The spellings before the blocking forms were named for what they do (STYLE.md rule 8).
extension ReferenceHandle {
    /// Renamed ``blockingValue()``.
    @available(*, deprecated, renamed: "blockingValue()")
    @available(*, noasync, message: "use the async twin: try await parent.$reference.value")
    public func resolve() throws -> Target? { try blockingValue() }

    /// Renamed ``blockingPartialValue()``.
    @available(*, deprecated, renamed: "blockingPartialValue()")
    @available(*, noasync, message: "use the async twin: try await parent.$reference.partialValue")
    public func resolvePartial() throws -> Partial<Target>? { try blockingPartialValue() }
}
