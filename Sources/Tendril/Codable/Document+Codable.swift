import TendrilDriver

/// Documents encode to JSON objects and decode from them (see `docs/codable.md`): `id` as 24 hex digits, fields by property name, dates as ISO 8601,
/// references as their ids.
extension Document: Codable {
    /// Encodes `id` (when the document has one) and every field, by property name.
    ///
    /// ```swift
    /// let json = try JSONEncoder().encode(person)
    /// // {"id":"65f1…","name":"Ada","mail":null,"friends":["65f2…"],"born":"1815-12-10T00:00:00.000Z"}
    /// ```
    /// References encode as their stored ids whatever the reference cache holds, so the JSON
    /// never depends on what was resolved or evicted; ``QueryableDocument/embeddingReferences(_:)`` embeds
    /// resolved documents instead. A field a projection left out is omitted.
    /// - Throws: what `encoder` throws (a non-finite `Double` under `JSONEncoder`'s default
    ///   strategy, say).
    public func encode(to encoder: any Encoder) throws {
        try jsonObject().encode(to: encoder)
    }

    /// `id` then the fields, as one JSON object.
    final func jsonObject() -> JSONValue { .object(jsonObjectMembers()) }

    /// `id` (when there is one) then the fields, by property name.
    final func jsonObjectMembers() -> [(key: String, value: JSONValue)] {
        var members: [(key: String, value: JSONValue)] = []
        if let id { members.append((key: "id", value: .string(id.hex))) }
        members += jsonMembers()
        return members
    }

    /// Sets this document's fields from a decoded JSON object (called by `init(from:)`).
    final func decodeFields(from decoder: any Decoder) throws {
        let json = try JSONValue(from: decoder)
        if case .object = json, let idValue = json.member("id") {
            switch idValue {
            case .null: break
            case .string(let hex) where FieldJSON.objectID(hex) != nil: id = FieldJSON.objectID(hex)
            default: throw error(.typeMismatch(expected: ObjectID.expectedBSONType, found: idValue.description), field: "id")
            }
        }
        do {
            try assignFields(from: json)
        } catch let failure as JSONFieldFailure {
            throw error(failure.kind, field: failure.path.isEmpty ? nil : failure.path)
        }
    }
}

extension QueryableDocument {
    /// Applies the fields a decoded document carries to this one, as pending changes, so that
    /// ``Document/save(in:)`` sends only what changed: how a `PUT` updates a stored document.
    ///
    /// ```swift
    /// let body = try JSONDecoder().decode(Person.self, from: json)   // fields checked
    /// guard let person = try await Person.objects.get(id) else { throw NotFound() }
    /// person.apply(changesFrom: body)                                // the body's id is ignored
    /// try await person.save()                                        // {$set: …} of what changed
    /// ```
    /// Only fields the JSON named are applied; the others keep their stored values. The decoded
    /// document's `id` is ignored: the route's id decides which document changes.
    /// > Note: Apply a decoded document before reading its embedded-document fields: reading
    /// one keeps its value as a change, which would then be applied too.
    public func apply(changesFrom decoded: Self) {
        let changes = decoded.readFields { $0.current }
        changeFields { fields in
            for (slot, value) in changes { fields.current[slot] = value }
        }
    }
}
