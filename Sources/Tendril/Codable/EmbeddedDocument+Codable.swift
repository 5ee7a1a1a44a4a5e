import TendrilDriver

/// Embedded documents encode to JSON objects and decode from them, field by field, as the
/// document that holds them does (see ``Document``'s `encode(to:)`).
extension EmbeddedDocument: Codable {
    /// Encodes every field, by property name.
    ///
    /// ```swift
    /// let json = try JSONEncoder().encode(person.address)   // {"city":"London","zip":null}
    /// ```
    /// - Throws: what `encoder` throws.
    public func encode(to encoder: any Encoder) throws {
        try JSONValue.object(jsonMembers()).encode(to: encoder)
    }

    /// Sets this document's fields from a decoded JSON object (called by `init(from:)`).
    final func decodeFields(from decoder: any Decoder) throws {
        do {
            try assignFields(from: try JSONValue(from: decoder))
        } catch let failure as JSONFieldFailure {
            throw DocumentError(failure.kind, collection: "\(Self.self)", documentID: nil, field: failure.path.isEmpty ? nil : failure.path)
        }
    }
}
