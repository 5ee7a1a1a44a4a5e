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
    /// The fields as an embedded BSON document. When they cannot be encoded (nested deeper than
    /// MongoDB's 100 levels), the document carries the error (`BSONDocument.encodingError`),
    /// so storing or sending it throws instead of storing part of it.
    public final var bsonValue: BSONValue {
        do {
            return .document(try encodedFields())
        } catch {
            let failure = error as? BSONError ?? BSONError(.invalidValue, "\(Self.self): \(error)")
            return .document(BSONDocument().carrying(failure))
        }
    }

    /// Decodes a stored embedded document; nil if it is not a document, a field has the wrong
    /// type, or a `.required` field is missing.
    public static func decode(_ value: BSONValue) -> Self? {
        guard let document = value.documentValue else { return nil }
        let embedded = Self()
        // The same one-walk check as a top-level document's (where `_id` is an ordinary key).
        let outcome = embedded.withSchema { embedded.loadFields(.document(document), loadedSlots: nil, schema: $0).outcome }
        guard case .loaded = outcome else { return nil }
        return embedded
    }

    /// Decodes an embedded document from JSON (or any `Decoder`), its fields checked as a
    /// document's are (see ``Document/init(from:)``).
    ///
    /// ```swift
    /// let address = try JSONDecoder().decode(Address.self, from: Data(#"{"city":"Oslo"}"#.utf8))
    /// ```
    /// - Throws: ``DocumentError`` naming the JSON path; what `decoder` throws for input that
    ///   is not JSON.
    public required convenience init(from decoder: any Decoder) throws {
        self.init()
        try decodeFields(from: decoder)
    }

    /// "object (ClassName)".
    public static var expectedBSONType: String { "object (\(self))" }

    /// Embedded documents are objects: a read must return the same one every time.
    public static var _keepsIdentity: Bool { true }

    /// This class.
    public static var embeddedDocumentType: EmbeddedDocument.Type? { self }
}
