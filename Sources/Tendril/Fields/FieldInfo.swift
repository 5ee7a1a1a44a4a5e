import TendrilDriver

/// One field of a class, as discovered from its declaration.
struct FieldInfo: @unchecked Sendable {
    /// The Swift property name.
    let name: String
    /// The stored key.
    let key: String
    let isRequired: Bool
    let valueType: any FieldValue.Type
    let encodedDefault: BSONValue
    /// The wrapper as declared, for its validation rules.
    let declaration: any AnyField
    /// For a reference field: its target class, shape and delete rule.
    let reference: ReferenceInfo?

}
