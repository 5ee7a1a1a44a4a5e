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
