import TendrilDriver

extension QueryableDocument {
    /// Creates the class's declared ``Document/indexes`` that do not exist yet (one command).
    /// - Throws: `MongoError` (for example when an index of the same name has other options).
    public static func ensureIndexes(in database: MongoDatabase? = nil) async throws {
        guard !indexes.isEmpty else { return }
        let collection = try collection(in: database)
        try await collection.createIndexes(indexes)
    }

    /// Inserts `documents` in one round trip (libmongoc splits at the server's batch limits).
    ///
    /// ```swift
    /// try await Person.insert([ada, alan, grace])
    /// ```
    /// - Parameters:
    ///   - documents: new documents of this class.
    ///   - database: where to insert them; nil for the class's default database.
    ///   - ordered: stop at the first failure (true) or attempt every document.
    /// - Throws: as ``Document/insert(into:)``. Hooks see all documents at once; on failure no
    ///   document is marked inserted (check the server, or retry with upserts). After a
    ///   `MongoError.isWriteOutcomeUnknown` failure each keeps the `_id` it tried, so a retry
    ///   reports the ones already stored as duplicates instead of storing them twice.
    public static func insert(_ documents: [Self], into database: MongoDatabase? = nil, ordered: Bool = true) async throws {
        guard !documents.isEmpty else { return }
        let collection = try collection(in: database)
        try EventHooks.emit(.beforeInsert, for: self, documents)
        let prepared = try documents.map { try $0.insertionDocument() }
        try await keepingTriedIDs(documents, prepared.map(\.0)) {
            try await reportingDuplicateKeys(id: nil) { try await collection.insertMany(prepared.map(\.1), ordered: ordered) }
        }
        for (document, (id, stored)) in zip(documents, prepared) {
            document.didInsert(id: id, document: stored)
            document.adoptDatabase(database)
        }
        try EventHooks.emit(.afterInsert, for: self, documents)
    }

    /// Inserts the new documents and sends the changes of the stored ones, all in one bulk
    /// write; documents without changes send nothing. Hooks as for ``Document/save(in:)``:
    /// `.beforeUpdate` and `.afterUpdate` see every stored document, changed or not.
    /// - Throws: as ``Document/save(in:)``; `.notFound` when a stored document was deleted
    ///   meanwhile, `.versionConflict` when a versioned one was saved by someone else (the
    ///   others' updates were applied; saving them again is correct: unversioned documents
    ///   stay unmarked and resend the same values, versioned ones that applied are marked saved). On failure every document keeps its pending changes.
    public static func save(_ documents: [Self], in database: MongoDatabase? = nil) async throws {
        let new = documents.filter(\.isNew)
        let stored = documents.filter { !$0.isNew }
        guard !documents.isEmpty else { return }
        let collection = try collection(in: database)
        try EventHooks.emit(.beforeInsert, for: self, new)
        try EventHooks.emit(.beforeUpdate, for: self, stored)
        let insertions = try new.map { try $0.insertionDocument() }
        var updates: [(Self, SavePlan)] = []
        for document in stored {
            try document.validateForSave()
            guard let bytes = document.fieldStorage.stored, let id = document.id else { continue }
            let changes = try ChangeSet(stored: bytes, schema: document.schema, storage: document.fieldStorage,
                                        defaults: { document.ownEncodedDefault($0, schema: document.schema) })
            if !changes.isEmpty { updates.append((document, try SavePlan(id: id, stored: bytes, changes: changes, schema: document.schema))) }
        }
        var operations = insertions.map { WriteModel.insertOne($0.1) }
        for (_, plan) in updates { operations.append(.updateOne(filter: plan.filter, update: plan.update)) }
        // Nothing to send is still a successful save: every before-hook gets its after-hook.
        guard !operations.isEmpty else { return try emitAfterSave(inserted: new, updated: stored) }
        let result = try await keepingTriedIDs(new, insertions.map(\.0)) {
            try await reportingDuplicateKeys(id: nil) { try await collection.bulkWrite(operations) }
        }
        // A document deleted meanwhile matches nothing: as for a single save, that is an error,
        // and no document is marked saved.
        guard result.matchedCount == updates.count else {
            // Name the first document that matched nothing and why (deleted, or saved by
            // someone else when the class is versioned). A versioned document whose update
            // applied is marked saved, since its version moved on: saving it again would conflict.
            var mismatch: DocumentError?
            for (document, plan) in updates {
                if let applied = plan.appliedFilter {
                    if try await collection.holds(applied) {
                        document.didSave(plan)
                    } else if mismatch == nil {
                        mismatch = try await document.saveMismatch(plan, in: collection)
                    }
                } else if mismatch == nil, try await !collection.holds(plan.filter) {
                    mismatch = try await document.saveMismatch(plan, in: collection)
                }
            }
            throw mismatch ?? DocumentError(.notFound, collection: collectionName, documentID: nil)
        }
        for (document, (id, bytes)) in zip(new, insertions) { document.didInsert(id: id, document: bytes) }
        for (document, plan) in updates { document.didSave(plan) }
        try emitAfterSave(inserted: new, updated: stored)
    }

    /// The after-hooks of a bulk save: `.afterUpdate` gets every stored document, whether or not
    /// it had changes to send, as `.beforeUpdate` did.
    private static func emitAfterSave(inserted: [Self], updated: [Self]) throws {
        try EventHooks.emit(.afterInsert, for: self, inserted)
        try EventHooks.emit(.afterUpdate, for: self, updated)
    }

    /// Deletes `documents` with one command (`_id` in the list), applying delete rules. The
    /// `.beforeDelete` hooks run before anything is sent, the rules' queries included.
    /// - Throws: ``DocumentError`` `.notInserted` if one was never stored (nothing is sent),
    ///   `.deleteDenied` when a `deny` rule refuses (nothing is deleted), `MongoError`.
    public static func delete(_ documents: [Self], from database: MongoDatabase? = nil) async throws {
        guard !documents.isEmpty else { return }
        let collection = try collection(in: database)
        var ids: [BSONValue] = []
        for document in documents {
            guard !document.isNew, let id = document.id else { throw document.error(.notInserted) }
            ids.append(.objectID(id))
        }
        // Hooks first: a cancelled delete sends nothing, not even the rules' planning queries.
        try EventHooks.emit(.beforeDelete, for: self, documents)
        let plan = try await DeletionPlan(deleting: ids.compactMap(\.objectIDValue), of: self, in: database)
        try await collection.deleteMany(["_id": ["$in": .array(ids)]])
        documents.forEach { $0.didDelete() }
        try await plan.applyAfterDelete()
        try EventHooks.emit(.afterDelete, for: self, documents)
    }
}
