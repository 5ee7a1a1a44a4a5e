import TendrilDriver

/// A document stored inside another: subclass it, declare `@Field`s, and use it as a field
/// type (alone, optional, or in arrays), to any depth.
///
/// ```swift
/// final class Address: EmbeddedDocument {
///     @Field var city: String = ""
///     @Field var zip: String?
/// }
/// final class Person: Document {
///     @Field var address = Address()
///     @Field var previous: [Address] = []
/// }
/// person.address.city = "London"
/// try await person.save()     // {$set: {"address.city": "London"}}
/// ```
/// Reading an embedded field twice gives the same object, so changes made inside it are
/// tracked and saved by path.
open class EmbeddedDocument: FieldContainer, FieldValue {
    /// The fields as an embedded BSON document.
    public final var bsonValue: BSONValue { .document(encodedFields()) }

    /// Decodes a stored embedded document; nil if it is not a document, a field has the wrong
    /// type, or a `.required` field is missing.
    public static func decode(_ value: BSONValue) -> Self? {
        guard let document = value.documentValue else { return nil }
        let embedded = Self()
        let schema = embedded.schema
        var present = [Bool](repeating: false, count: schema.fields.count)
        for (key, element) in document {
            guard let slot = schema.slotByKey[key] else { continue }
            guard schema.fields[slot].valueType.decode(element) != nil else { return nil }
            present[slot] = !element.isNull
        }
        for (slot, field) in schema.fields.enumerated() where field.isRequired && !present[slot] {
            return nil
        }
        embedded.fieldStorage = FieldStorage(stored: document, current: [:])
        return embedded
    }

    /// "object (ClassName)".
    public static var expectedBSONType: String { "object (\(self))" }

    /// Embedded documents are objects: a read must return the same one every time.
    public static var keepsIdentity: Bool { true }

    /// This class.
    public static var embeddedDocumentType: EmbeddedDocument.Type? { self }
}
