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
/// let friend = try person.$bestFriend.resolve()   // Person?, through person's cache
/// let same = try await person.$bestFriend.value   // the same, from async code
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
/// if let friend = try person.$bestFriend.resolve() { print(friend.name) }
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

    /// The referenced document, from the parent's cache or fetched (blocking the calling thread).
    /// - Returns: nil when the reference is unset.
    /// - Throws: ``DocumentError`` `.danglingReference` (naming the collection and id) when the
    ///   document no longer exists, or a type error; ``MongoError`` when the fetch fails.
    @available(*, noasync, message: "use the async twin: try await parent.$reference.value")
    public func resolve() throws -> Target? {
        guard let id else { return nil }
        return try resolved(id)
    }

    /// The referenced document, like ``resolve()``, fetched on Tendril's threads.
    public var value: Target? {
        get async throws {
            guard let id else { return nil }
            return try await resolvedOffThread(id)
        }
    }

    /// The referenced document as prefetched with `only:` (a ``Partial`` that throws for the
    /// fields it lacks); a whole document when one is kept, or fetched whole when none is.
    /// - Throws: as ``resolve()``.
    public func resolvePartial() throws -> Partial<Target>? {
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
