import TendrilDriver

/// The shape of a reference field's stored ids.
enum ReferenceShape: Sendable {
    case single, list, dictionary
}

/// What the schema and the delete rules know of a reference field's declaration.
struct ReferenceInfo: @unchecked Sendable {
    let target: Document.Type
    let shape: ReferenceShape
    let deleteRule: DeleteRule
}

/// The parts of a reference declaration beyond its identity (custom key, options, delete rule):
/// shared by reference from each instance's wrapper, absent for plain references, so a
/// reference costs an instance 16 bytes.
final class ReferenceTraits: Sendable {
    let customKey: String?
    let options: FieldOptions
    let deleteRule: DeleteRule

    /// nil when the declaration sets nothing.
    static func make(customKey: String?, options: FieldOptions, deleteRule: DeleteRule) -> ReferenceTraits? {
        customKey == nil && options.isEmpty && deleteRule == .nothing
            ? nil : ReferenceTraits(customKey: customKey, options: options, deleteRule: deleteRule)
    }

    /// A fresh object with `traits`' content (defaults when nil), to mark a wrapper.
    static func marker(copying traits: ReferenceTraits?) -> ReferenceTraits {
        ReferenceTraits(customKey: traits?.customKey, options: traits?.options ?? [], deleteRule: traits?.deleteRule ?? .nothing)
    }

    private init(customKey: String?, options: FieldOptions, deleteRule: DeleteRule) {
        self.customKey = customKey
        self.options = options
        self.deleteRule = deleteRule
    }
}

/// What every reference wrapper tells the schema besides being a field.
protocol AnyReferenceField: AnyField {
    var referenceInfo: ReferenceInfo { get }
}

/// What `@Reference`, `@ReferenceList` and `@ReferenceDictionary` share: their traits, what
/// they tell the schema, and the bodies of their enclosing-instance subscripts. Each wrapper
/// still declares both subscripts (generic over `Owner`: STYLE.md rule 5) and its unavailable
/// `wrappedValue`/`projectedValue`: the compiler looks those up on the wrapper type itself (a
/// projected subscript in a protocol extension is skipped, and the unavailable getter traps).
protocol ReferenceWrapper: AnyReferenceField {
    associatedtype Target: Document
    /// The stored ids: `ObjectID?`, `[ObjectID]` or `[String: ObjectID]`.
    associatedtype IDs: FieldValue
    /// The projected handle: `person.$friends`.
    associatedtype Handle: ReferenceHandleProtocol where Handle.Target == Target
    /// Custom key, options and delete rule; nil when the declaration sets none.
    var traits: ReferenceTraits? { get set }
    static var shape: ReferenceShape { get }
    /// What an unset field holds.
    static var unset: IDs { get }
}

extension ReferenceWrapper {
    var identity: AnyObject? { traits }
    func marked() -> Self {
        var copy = self
        copy.traits = ReferenceTraits.marker(copying: traits)
        return copy
    }
    var isRequired: Bool { traits?.options.contains(.required) ?? false }
    var isVersion: Bool { false }
    var valueType: any FieldValue.Type { IDs.self }
    var encodedDefault: BSONValue { Self.unset.bsonValue }
    func violation(of value: Any) -> String? { nil }
    var referenceInfo: ReferenceInfo {
        ReferenceInfo(target: Target.self, shape: Self.shape, deleteRule: traits?.deleteRule ?? .nothing)
    }

    /// The field's slot in `owner`'s schema.
    static func slot<Owner: Document>(in owner: Owner, storage: ReferenceWritableKeyPath<Owner, Self>) -> Int {
        owner.schema.slot(for: storage, in: owner)
    }

    /// The stored ids, for the wrapped getter.
    static func storedIDs<Owner: Document>(in owner: Owner, storage: ReferenceWritableKeyPath<Owner, Self>) -> IDs {
        let slot = Self.slot(in: owner, storage: storage)
        // Read on a schema's prototype, it records which field `\.name` names (as for @Field).
        if let trace = owner.readTrace { trace.slots.append(slot) }
        return owner.referenceIDs(at: slot, default: unset)
    }

    /// Stores `ids`, for the wrapped setter.
    static func store<Owner: Document>(_ ids: IDs, in owner: Owner, storage: ReferenceWritableKeyPath<Owner, Self>) {
        let slot = Self.slot(in: owner, storage: storage)
        owner.changeFields { $0.write(ids, to: slot) }
    }

    /// The projected handle on `owner`'s field.
    static func handle<Owner: Document>(in owner: Owner, storage: ReferenceWritableKeyPath<Owner, Self>) -> Handle {
        let slot = Self.slot(in: owner, storage: storage)
        // Read on a schema's prototype, it records which field `\.$name` names (as for @Field).
        if let trace = owner.readTrace { trace.projectedSlots.append(slot) }
        return Handle(_state: _ReferenceHandleState(parent: owner, slot: slot))
    }
}

extension Document {
    /// The ids stored in reference field `slot`, as `Value` (`ObjectID?`, `[ObjectID]`, ...).
    final func referenceIDs<Value: FieldValue>(at slot: Int, default defaultValue: Value) -> Value {
        fieldStorage.peek(slot, schema: schema, default: defaultValue)
    }

    /// The stored key of field `slot`, for error messages.
    final func fieldKey(at slot: Int) -> String { slot >= 0 ? schema.keys[slot] : "(unmatched)" }

    /// `target`'s id, which a reference stores.
    /// - Throws: ``DocumentError`` `.notInserted` when it has none yet: save it first.
    static func referencedID(of target: Document) throws -> ObjectID {
        guard let id = target.id else {
            throw DocumentError(.notInserted, collection: type(of: target).collectionName, documentID: nil)
        }
        return id
    }
}
