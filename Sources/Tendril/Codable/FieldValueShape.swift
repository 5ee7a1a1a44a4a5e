/// How a field type is built, as JSON conversion needs it: optionals, arrays and dictionaries
/// convert element by element, embedded documents by their own schema, the rest as scalars.
enum FieldValueShape {
    case optional(any FieldValue.Type)
    case array(any FieldValue.Type)
    case dictionary(any FieldValue.Type)
    case embedded(EmbeddedDocument.Type)
    case scalar

    init(_ type: any FieldValue.Type) {
        if let embedded = type as? EmbeddedDocument.Type {
            self = .embedded(embedded)
        } else if let optional = type as? any OptionalShaped.Type {
            self = .optional(optional.wrappedFieldType)
        } else if let array = type as? any ArrayShaped.Type {
            self = .array(array.elementFieldType)
        } else if let dictionary = type as? any DictionaryShaped.Type {
            self = .dictionary(dictionary.valueFieldType)
        } else {
            self = .scalar
        }
    }
}

/// `Optional` of a field type.
protocol OptionalShaped {
    static var wrappedFieldType: any FieldValue.Type { get }
}

/// `Array` of a field type.
protocol ArrayShaped {
    static var elementFieldType: any FieldValue.Type { get }
}

/// `[String: V]` of a field type.
protocol DictionaryShaped {
    static var valueFieldType: any FieldValue.Type { get }
}

extension Optional: OptionalShaped where Wrapped: FieldValue {
    static var wrappedFieldType: any FieldValue.Type { Wrapped.self }
}

extension Array: ArrayShaped where Element: FieldValue {
    static var elementFieldType: any FieldValue.Type { Element.self }
}

extension Dictionary: DictionaryShaped where Key == String, Value: FieldValue {
    static var valueFieldType: any FieldValue.Type { Value.self }
}
