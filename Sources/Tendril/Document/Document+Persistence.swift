import TendrilDriver

extension Document {
    /// Inserts the document, giving it a new ObjectId when ``id`` is nil.
    ///
    /// ```swift
    /// let ada = Person()
    /// ada.name = "Ada"
    /// try await ada.insert()
    /// ```
    /// - Parameter database: the database for this call; by default the one the document was
    ///   loaded from or saved to, else the class's.
    /// - Throws: ``DocumentError`` (`.missingRequiredField`, `.validationFailed`, `.duplicateKey`,
    ///   `.invalidFieldKey`, `.noDatabase`), `MongoError` (network...). On failure the document
    ///   is unchanged, so the call can be retried; after a `MongoError.isWriteOutcomeUnknown`
    ///   failure it keeps the `_id` it tried, so a retry stores it once: when the first attempt
    ///   had landed, the retry finds the same document stored under that id and succeeds.
    public final func insert(into database: MongoDatabase? = nil) async throws {
        let collection = try collection(in: database)
        try EventHooks.emit(.beforeInsert, for: Self.self, [self])
        let retrying = hasUnconfirmedInsert
        let (id, document) = try insertionDocument()
        do {
            try await Self.keepingTriedIDs([self], [id]) {
                try await Self.reportingDuplicateKeys(id: id) { try await collection.insertOne(document) }
            }
        } catch let failure as DocumentError where failure.kind == .duplicateKey && retrying {
            // The attempt whose outcome was unknown may have landed: the same document under its
            // id is that attempt, stored as it is here; anything else is a real duplicate. (An id
            // the caller chose gets no such benefit: taking a taken id stays an error.)
            let stored = try await collection.findOne(["_id": .objectID(id)])
            guard let stored, Self.isStoredCopy(stored, of: document) else { throw failure }
        }
        didInsert(id: id, document: document)
        adoptDatabase(database)
        try EventHooks.emit(.afterInsert, for: Self.self, [self])
    }

    /// The validated document an insert sends, with the id it will have.
    final func insertionDocument() throws -> (ObjectID, BSONDocument) {
        try validateForSave()
        let id = self.id ?? ObjectID()
        return (id, try document(withID: id))
    }

    final func didInsert(id: ObjectID, document: BSONDocument) {
        self.id = id
        hasUnconfirmedInsert = false
        replaceStored(document)
    }

    /// Inserts a new document, or sends only what changed since it was loaded or saved.
    ///
    /// ```swift
    /// person.age += 1
    /// try await person.save()    // {$set: {age: 37}}
    /// ```
    /// Nothing is sent when nothing changed. Changes inside embedded documents are set by
    /// path (`address.city`); arrays are set whole; optional fields set to nil are unset.
    /// A stored document's save runs the `.beforeUpdate` hooks, then (when it succeeds) the
    /// `.afterUpdate` ones, also when nothing needed sending.
    /// - Throws: as ``insert(into:)``; ``DocumentError`` `.notFound` when the stored document
    ///   was deleted meanwhile (it is never inserted again by a save), `.versionConflict` when a
    ///   class with a `.version` field was saved by someone else since this document was loaded.
    ///   On failure the pending changes stay, so `save()` can be retried.
    public final func save(in database: MongoDatabase? = nil) async throws {
        guard let stored = fieldStorage.stored, let id else {
            return try await insert(into: database)
        }
        let collection = try collection(in: database)
        try EventHooks.emit(.beforeUpdate, for: Self.self, [self])
        try validateForSave()
        let changes = try ChangeSet(stored: stored, schema: schema, storage: fieldStorage,
                                    defaults: { self.ownEncodedDefault($0, schema: schema) })
        // Nothing to send is still a successful update: the hooks come in pairs.
        guard !changes.isEmpty else { return try EventHooks.emit(.afterUpdate, for: Self.self, [self]) }
        let plan = try SavePlan(id: id, stored: stored, changes: changes, schema: schema)
        let result = try await Self.reportingDuplicateKeys(id: id) { try await collection.updateOne(plan.filter, plan.update) }
        guard result.matchedCount == 1 else { throw try await saveMismatch(plan, in: collection) }
        didSave(plan)
        adoptDatabase(database)
        try EventHooks.emit(.afterUpdate, for: Self.self, [self])
    }

    /// Inserts the document, or replaces the stored one with the same id whole (no hooks run:
    /// it is neither only an insert nor only an update).
    /// - Throws: as ``insert(into:)``.
    public final func upsert(in database: MongoDatabase? = nil) async throws {
        let collection = try collection(in: database)
        let (id, document) = try insertionDocument()
        try await Self.keepingTriedIDs([self], [id]) {
            try await Self.reportingDuplicateKeys(id: id) { try await collection.replaceOne(["_id": .objectID(id)], document, upsert: true) }
        }
        didInsert(id: id, document: document)
    }

    /// Whether `stored` holds what `document` (an insertion document) would store: the same
    /// keys with the same values byte for byte, except that keys may come in another order and
    /// an int32 may stand for an int64 of the same value (servers move `_id` first; nx-27017
    /// returns int64s that fit in 32 bits as int32s).
    static func isStoredCopy(_ stored: BSONDocument, of document: BSONDocument) -> Bool {
        func same(_ stored: BSONValue, _ sent: BSONValue) -> Bool {
            switch (stored, sent) {
            case (.document(let a), .document(let b)): return sameDocument(a, b)
            case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy(same)
            case (.int32(let a), .int64(let b)), (.int64(let b), .int32(let a)): return Int64(a) == b
            // Bytes, not `==`: Swift's string equality is canonical equivalence, and NaN != NaN.
            default: return (["v": stored] as BSONDocument).bytes == (["v": sent] as BSONDocument).bytes
            }
        }
        func sameDocument(_ stored: BSONDocument, _ sent: BSONDocument) -> Bool {
            stored.count == sent.count && sent.allSatisfy { element in stored[element.key].map { same($0, element.value) } ?? false }
        }
        return sameDocument(stored, document)
    }

    /// Runs a write inserting `documents` under `ids`. When its outcome is unknown some may be
    /// stored, so each keeps the id it tried: a retry then cannot store a second copy.
    @discardableResult
    static func keepingTriedIDs<T>(_ documents: [Document], _ ids: [ObjectID], _ write: () async throws -> T) async throws -> T {
        do {
            return try await write()
        } catch let failure as MongoError where failure.isWriteOutcomeUnknown {
            for (document, id) in zip(documents, ids) {
                document.id = id
                document.hasUnconfirmedInsert = true
            }
            throw failure
        }
    }

    /// Runs `write`, turning a unique-index violation into a ``DocumentError`` naming the
    /// collection, the document (when there is one) and the field (when the server says).
    @discardableResult
    static func reportingDuplicateKeys<T>(id: ObjectID?, _ write: () async throws -> T) async throws -> T {
        do {
            return try await write()
        } catch let serverError as MongoError where serverError.isDuplicateKey {
            throw DocumentError(.duplicateKey, collection: collectionName, documentID: id.map(BSONValue.objectID),
                                field: serverError.duplicateKeyPattern?.keys.first, serverError: serverError)
        }
    }

    /// Deletes the stored document, applying the ``DeleteRule``s of the references to it. The
    /// object keeps its values (and id); saving it again inserts it anew. The `.beforeDelete`
    /// hooks run before anything is sent (the rules' queries included), so one that throws
    /// cancels the delete with nothing sent.
    /// - Throws: ``DocumentError`` `.notInserted` for a document never stored, `.deleteDenied`
    ///   when a `deny` rule refuses (nothing is deleted then), `MongoError`.
    public final func delete(from database: MongoDatabase? = nil) async throws {
        guard !isNew, let id else { throw error(.notInserted) }
        let collection = try collection(in: database)
        // Hooks first: a cancelled delete sends nothing, not even the rules' planning queries.
        try EventHooks.emit(.beforeDelete, for: Self.self, [self])
        let plan = try await DeletionPlan(deleting: [id], of: Self.self, in: database ?? referenceSettings?.database)
        try await collection.deleteOne(["_id": .objectID(id)])
        didDelete()
        try await plan.applyAfterDelete()
        try EventHooks.emit(.afterDelete, for: Self.self, [self])
    }

    /// Keeps every value readable once the stored bytes are gone; a later save inserts anew.
    final func didDelete() {
        if let id { ReferencePool.documentDidDelete(self, id: id) }   // evicted, remembered as dangling
        for (slot, field) in schema.fields.enumerated() where fieldStorage.current[slot] == nil {
            if let value = field.valueType.decode(currentValue(slot, schema: schema)) {
                fieldStorage.current[slot] = value
            }
        }
        replaceStored(nil)
    }

    /// Fetches the document again, dropping unsaved changes, and empties its reference cache:
    /// references resolve anew on next access (nothing is fetched for them now).
    /// - Throws: ``DocumentError`` `.notInserted`, `.notFound` (deleted meanwhile), or a type
    ///   error if the stored document no longer matches the class; the object is then unchanged.
    public final func reload(from database: MongoDatabase? = nil) async throws {
        guard let id else { throw error(.notInserted) }
        let collection = try collection(in: database)
        // Every field, so a partial document becomes whole; loaded in one walk over the reply.
        guard try await withStoredBytes(id, from: collection, { try self.load(.received($0)) }) != nil else {
            throw error(.notFound)
        }
        clearReferenceCache()
        adoptDatabase(database)
        ReferencePool.storedDidChange(self)   // the pool holding it, if any, counts its new size
    }
}

extension QueryableDocument {
    /// Fetches only the named fields again (as `\.$name` or `\.name`), dropping their unsaved
    /// changes and keeping every other field's, loaded or changed.
    ///
    /// ```swift
    /// try await person.reload(\.$balance)
    /// ```
    /// - Throws: ``DocumentError`` `.notInserted`, `.notFound`, or a type error for a fetched
    ///   value (the document is then unchanged).
    public func reload(_ fields: PartialKeyPath<Self>..., from database: MongoDatabase? = nil) async throws {
        let schema = self.schema
        try await reloadSlots(fields.compactMap { schema.slot(forProjected: $0) }, from: database)
    }
}

extension Document {
    /// Fetches the fields at `slots` again and merges them into the stored document, keeping the
    /// pending changes of every other field.
    final func reloadSlots(_ slots: [Int], from database: MongoDatabase?) async throws {
        guard !slots.isEmpty else { return }
        guard let id, let stored = fieldStorage.stored else { throw error(.notInserted) }
        let collection = try collection(in: database)
        let projection = BSONDocument(elements: slots.map { (schema.keys[$0], .int32(1)) })
        guard let fetched = try await fetchStored(id, from: collection, projection: projection) else {
            throw error(.notFound)
        }
        var merged = stored
        for slot in slots {
            let key = schema.keys[slot]
            if let value = fetched[key] { try merged.setValue(value, forKey: key) } else { merged.removeValue(forKey: key) }
        }
        var loaded = fieldStorage.loadedSlots
        for slot in slots { loaded?[slot] = true }
        if loaded?.allSatisfy({ $0 }) == true { loaded = nil }
        var kept = fieldStorage.current
        for slot in slots { kept[slot] = nil }
        // One change: a reader on another task sees the fields before or after, never the
        // fetched values without the other fields' pending changes.
        try load(.document(merged), loadedSlots: loaded, keeping: kept)
    }
}

extension Document {
    /// Calls `body` with the bytes of the stored document with `id` as the server sent them
    /// (not validated: `body` loads them in one walk), or returns nil when there is none. Sends
    /// what `MongoCollection.findOne(_:projection:sort:)` sends.
    /// - Throws: `MongoError`, and what `body` throws.
    final func withStoredBytes<Result>(_ id: ObjectID, from collection: MongoCollection,
                                       _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) async throws -> Result? {
        do {
            let options = FindOptions(limit: 1, extra: ["singleBatch": true])
            var cursor = try await collection.find(["_id": .objectID(id)], options: options).makeAsyncIterator()
            return try await cursor.withNext(body)
        } catch {
            throw DocumentError.reading(error, collection: Self.collectionName)
        }
    }

    /// The stored document with `id`, or nil; invalid BSON from the server is a
    /// ``DocumentError`` `.invalidBSON` naming the document and the field.
    final func fetchStored(_ id: ObjectID, from collection: MongoCollection, projection: BSONDocument? = nil) async throws -> BSONDocument? {
        do {
            return try await collection.findOne(["_id": .objectID(id)], projection: projection)
        } catch {
            throw DocumentError.reading(error, collection: Self.collectionName)
        }
    }
}
