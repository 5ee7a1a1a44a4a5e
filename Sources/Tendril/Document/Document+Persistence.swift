import TendrilDriver

extension Document {
    /// Inserts the document, giving it a new ObjectId when ``id`` is nil.
    ///
    /// ```swift
    /// let ada = Person()
    /// ada.name = "Ada"
    /// try await ada.insert()
    /// ```
    /// - Parameter database: overrides the class's database for this call.
    /// - Throws: ``DocumentError`` (`.missingRequiredField`, `.invalidFieldKey`, `.noDatabase`),
    ///   ``MongoError`` (`isDuplicateKey`, network...). On failure the document is unchanged
    ///   (no id assigned), so the call can be retried.
    public final func insert(into database: MongoDatabase? = nil) async throws {
        let collection = try Self.collection(in: database)
        try validateForSave()
        let id = self.id ?? ObjectID()
        var document: BSONDocument = ["_id": .objectID(id)]
        for (key, value) in encodedFields() { try document.append(key, value) }
        try await collection.insertOne(document)
        self.id = id
        fieldStorage.stored = document
    }

    /// Inserts a new document, or sends only what changed since it was loaded or saved.
    ///
    /// ```swift
    /// person.age += 1
    /// try await person.save()    // {$set: {age: 37}}
    /// ```
    /// Nothing is sent when nothing changed. Changes inside embedded documents are set by
    /// path (`address.city`); arrays are set whole; optional fields set to nil are unset.
    /// - Throws: as ``insert(into:)``; ``DocumentError`` `.notFound` when the stored document
    ///   was deleted meanwhile. On failure the pending changes stay, so `save()` can be retried.
    public final func save(in database: MongoDatabase? = nil) async throws {
        guard let stored = fieldStorage.stored, let id else {
            return try await insert(into: database)
        }
        let collection = try Self.collection(in: database)
        try validateForSave()
        let changes = try ChangeSet(stored: stored, schema: schema, storage: fieldStorage)
        guard !changes.isEmpty else { return }
        let result = try await collection.updateOne(["_id": .objectID(id)], try changes.updateDocument())
        guard result.matchedCount == 1 else { throw error(.notFound) }
        fieldStorage.stored = changes.updatedStored
    }

    /// Inserts the document, or replaces the stored one with the same id whole.
    /// - Throws: as ``insert(into:)``.
    public final func upsert(in database: MongoDatabase? = nil) async throws {
        let collection = try Self.collection(in: database)
        try validateForSave()
        let id = self.id ?? ObjectID()
        var document: BSONDocument = ["_id": .objectID(id)]
        for (key, value) in encodedFields() { try document.append(key, value) }
        try await collection.replaceOne(["_id": .objectID(id)], document, upsert: true)
        self.id = id
        fieldStorage.stored = document
    }

    /// Deletes the stored document. The object keeps its values (and id); saving it again
    /// inserts it anew.
    /// - Throws: ``DocumentError`` `.notInserted` for a document never stored, ``MongoError``.
    public final func delete(from database: MongoDatabase? = nil) async throws {
        guard !isNew, let id else { throw error(.notInserted) }
        let collection = try Self.collection(in: database)
        try await collection.deleteOne(["_id": .objectID(id)])
        // Keep every value readable once the stored bytes are gone.
        for (slot, field) in schema.fields.enumerated() where fieldStorage.current[slot] == nil {
            if let value = field.valueType.decode(fieldStorage.currentValue(slot, field: field)) {
                fieldStorage.current[slot] = value
            }
        }
        fieldStorage.stored = nil
    }

    /// Fetches the document again, dropping unsaved changes.
    /// - Throws: ``DocumentError`` `.notInserted`, `.notFound` (deleted meanwhile), or a type
    ///   error if the stored document no longer matches the class; the object is then unchanged.
    public final func reload(from database: MongoDatabase? = nil) async throws {
        guard let id else { throw error(.notInserted) }
        let collection = try Self.collection(in: database)
        guard let stored = try await collection.findOne(["_id": .objectID(id)]) else { throw error(.notFound) }
        try load(stored)
    }
}
