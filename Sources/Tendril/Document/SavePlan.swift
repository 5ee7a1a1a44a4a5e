import TendrilDriver

/// How a save of a stored document's changes is sent: the filter that finds it (its `_id`,
/// and, for a class with a `.version` field, the version it was loaded or last saved with), the
/// update, and the bytes the document holds once the update is applied.
struct SavePlan {
    let filter: BSONDocument
    let update: BSONDocument
    let updatedStored: BSONDocument
    /// The version the save expects to find (nil for a class without a `.version` field).
    let expectedVersion: Int?
    /// For a versioned class: what finds the document once this save applied: its `_id`, the
    /// incremented version and the values it set (another writer's save also increments the
    /// version, but holds its own values).
    let appliedFilter: BSONDocument?

    init(id: ObjectID, stored: BSONDocument, changes: ChangeSet, schema: Schema) throws {
        var filter: BSONDocument = ["_id": .objectID(id)]
        let update = try changes.updateDocument()
        guard let versionSlot = schema.versionSlot else {
            self.filter = filter
            self.update = update
            self.updatedStored = changes.updatedStored
            self.expectedVersion = nil
            self.appliedFilter = nil
            return
        }
        let key = schema.keys[versionSlot]
        // The stored version, not the property: the property may have been changed by hand.
        let storedValue = stored[key]
        let expected = storedValue.flatMap(Int.decode) ?? 0
        // A document stored before the class had the field holds none: it counts as 0.
        try filter.append(key, storedValue == nil ? ["$exists": false] : .int64(Int64(expected)))
        let next = BSONValue.int64(Int64(expected) &+ 1)
        var versioned = BSONDocument()
        var set = BSONDocument()
        for (operation, value) in update {
            guard let fields = value.documentValue else { try versioned.appendOperator(operation, value); continue }
            var kept = BSONDocument()
            for (field, fieldValue) in fields where field != key { try kept.append(field, fieldValue) }
            if operation == "$set" {
                set = kept
            } else if !kept.isEmpty {
                try versioned.appendOperator(operation, .document(kept))
            }
        }
        try set.append(key, next)
        try versioned.appendOperator("$set", .document(set))
        var updatedStored = changes.updatedStored
        try updatedStored.setValue(next, forKey: key)
        self.filter = filter
        self.update = versioned
        self.updatedStored = updatedStored
        self.expectedVersion = expected
        var applied: BSONDocument = ["_id": .objectID(id), key: next]
        for (field, value) in set where field != key {
            var equals = BSONDocument()
            try equals.appendOperator("$eq", value)
            try applied.appendOperator(field, .document(equals))
        }
        if let unset = versioned["$unset"]?.documentValue {
            for (field, _) in unset { try applied.append(field, ["$exists": false]) }
        }
        self.appliedFilter = applied
    }
}

extension Document {
    /// Makes a successful save's bytes the stored state. The `.version` field reads from them
    /// again (a value set by hand is dropped: the save set the version).
    final func didSave(_ plan: SavePlan) {
        replaceStored(plan.updatedStored)
        if let versionSlot = schema.versionSlot { fieldStorage.current[versionSlot] = nil }
        ReferencePool.storedDidChange(self)   // the pool holding it, if any, keeps it current
    }

    /// Why a save of changes matched no document: it was deleted (`.notFound`), or, for a
    /// versioned class, saved by someone else since (`.versionConflict`).
    final func saveMismatch(_ plan: SavePlan, in collection: MongoCollection) async throws -> DocumentError {
        guard let expected = plan.expectedVersion, let id, let versionSlot = schema.versionSlot else { return error(.notFound) }
        let stillThere = try await collection.holds(["_id": .objectID(id)])
        return stillThere ? error(.versionConflict(expected: expected), field: schema.keys[versionSlot]) : error(.notFound)
    }
}

extension MongoCollection {
    /// True when a document matches `filter`. A `findOne` of the `_id` rather than a count:
    /// the local test server's count does not match ObjectIds (docs/server-compatibility.md).
    func holds(_ filter: BSONDocument) async throws -> Bool {
        try await findOne(filter, projection: ["_id": 1]) != nil
    }
}
