import TendrilDriver

/// A document to encode with some of its references replaced by the documents they name, made
/// by ``QueryableDocument/embeddingReferences(_:)``.
///
/// ```swift
/// let body = try await person.embeddingReferences(\.$friends, \.$bestFriend)
/// let json = try JSONEncoder().encode(body)
/// // {"id":"65f1…","name":"Ada","friends":[{"id":"65f2…","name":"Grace",…}],"bestFriend":null}
/// ```
/// Each embedded document encodes as it would alone: its own references stay ids (one level is
/// embedded, so cycles cannot recurse). A single reference embeds an object or null, a list an
/// array in the stored order, a dictionary an object with sorted keys.
/// > Note: The referenced documents are resolved when it is made, through the document's
/// reference cache (batched, under its fetch mode and policy), and encoded then; the document's
/// own fields are encoded when it is encoded.
public struct EmbeddingReferences<Root: Document>: Encodable {
    /// The document whose references are embedded.
    public let document: Root
    /// The embedded JSON, by field slot.
    let embedded: [Int: JSONValue]

    /// Encodes ``document`` with its embedded references in place of their ids.
    /// - Throws: what `encoder` throws.
    public func encode(to encoder: any Encoder) throws {
        let members = document.jsonObjectMembers()
        let names = Dictionary(embedded.map { (document.schema.fields[$0.key].name, $0.value) }, uniquingKeysWith: { first, _ in first })
        try JSONValue.object(members.map { (key: $0.key, value: names[$0.key] ?? $0.value) }).encode(to: encoder)
    }
}

extension QueryableDocument {
    /// This document, to encode with the documents the given references name embedded in place
    /// of their ids; resolved now, through this document's reference cache.
    ///
    /// ```swift
    /// router.get("people/:id") { request, context in
    ///     guard let person = try await Person.objects.get(id) else { throw NotFound() }
    ///     return try await person.embeddingReferences(\.$friends)   // one $in query (or none, if cached)
    /// }
    /// ```
    /// Without this, references encode as their ids (see `encode(to:)`).
    /// - Parameter references: key paths to reference handles: `\.$bestFriend`, `\.$friends`,
    ///   `\.$roles`.
    /// - Throws: ``DocumentError`` `.notAField` for a key path that names no reference,
    ///   `.danglingReference` for an id whose document was deleted; `MongoError` when a fetch
    ///   fails.
    public func embeddingReferences(_ references: PartialKeyPath<Self>...) async throws -> EmbeddingReferences<Self> {
        var embedded: [Int: JSONValue] = [:]
        for keyPath in references {
            guard let handle = self[keyPath: keyPath] as? any EmbeddableReferences else {
                throw error(.notAField, field: "\(keyPath)")
            }
            let (slot, json) = try await handle.resolvedJSON()
            embedded[slot] = json
        }
        return EmbeddingReferences(document: self, embedded: embedded)
    }
}

/// A reference handle whose documents can be embedded in JSON.
protocol EmbeddableReferences {
    /// The field's slot, and its resolved documents as JSON.
    func resolvedJSON() async throws -> (slot: Int, json: JSONValue)
}

extension ReferenceHandle: EmbeddableReferences {
    func resolvedJSON() async throws -> (slot: Int, json: JSONValue) {
        (slot, try await value.map { $0.jsonObject() } ?? .null)
    }
}

extension ReferenceListHandle: EmbeddableReferences {
    func resolvedJSON() async throws -> (slot: Int, json: JSONValue) {
        (slot, .array(try await values.map { $0.jsonObject() }))
    }
}

extension ReferenceDictionaryHandle: EmbeddableReferences {
    func resolvedJSON() async throws -> (slot: Int, json: JSONValue) {
        let resolved = try await values
        return (slot, .object(resolved.keys.sorted().compactMap { key in resolved[key].map { (key: key, value: $0.jsonObject()) } }))
    }
}
