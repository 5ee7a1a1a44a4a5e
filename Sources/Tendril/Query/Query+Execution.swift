import TendrilDriver

extension Query {
    /// The first match (in sort order), or nil.
    /// - Throws: `MongoError`, or ``DocumentError`` if the stored document does not fit `Model`.
    public func first() async throws -> Model? {
        var options = limit(1).findOptions
        options.extra = ["singleBatch": true]   // one reply, and the server closes the cursor
        var cursor = try await collection().find(filterDocument, options: options).makeAsyncIterator()
        let settings = referenceSettings
        // The reply's bytes are loaded in one walk, on this task, as a streamed query's are.
        guard let document = try await cursor.withNext({ try Model.hydrate(.received($0), settings: settings) }) else { return nil }
        try await prefetchPlan.run(on: [document])
        return document
    }

    /// The document with `id` among the matches, or nil.
    /// - Throws: as ``first()``.
    public func get(_ id: ObjectID) async throws -> Model? {
        try await filter(raw: ["_id": ["$eq": .objectID(id)]]).first()
    }

    /// Every match, in an array.
    /// > Note: Holds all of them at once; iterate the query to stream instead.
    /// - Throws: as ``first()``.
    public func all() async throws -> [Model] {
        try await collected()
    }

    /// How many documents match (ignoring sort; honouring skip and limit).
    /// - Throws: `MongoError`.
    public func count() async throws -> Int {
        let collection = try collection()
        var pipeline: [BSONDocument] = [["$match": .document(filterDocument)]]
        if let skipCount, skipCount > 0 { pipeline.append(["$skip": .int64(Int64(skipCount))]) }
        if let limitCount {
            // MongoDB refuses `$limit: 0`; a limit of 0 counts nothing.
            guard limitCount > 0 else { return 0 }
            pipeline.append(["$limit": .int64(Int64(limitCount))])
        }
        pipeline.append(["$count": "n"])
        let cursor = try await collection.aggregate(pipeline)
        // `$count` yields no document at all when nothing matches.
        guard let result = try await cursor.nextDocument() else { return 0 }
        guard let count = result["n"]?.intValue else {
            throw MongoError(kind: .protocol, message: "the server's $count reply holds no integer count: \(result)")
        }
        return count
    }

    /// True when at least one document matches (fetches at most one `_id`).
    /// - Throws: `MongoError`.
    public func exists() async throws -> Bool {
        let collection = try collection()
        let options = FindOptions(projection: ["_id": 1], skip: skipCount, limit: 1, extra: ["singleBatch": true])
        let cursor = try await collection.find(filterDocument, options: options)
        return try await cursor.nextDocument() != nil
    }

    /// Deletes every match and returns how many were deleted. Skip, limit and sort are ignored:
    /// `filter(...).limit(1).delete()` deletes every match.
    /// - Throws: ``DocumentError`` `.deleteDenied`, `MongoError`.
    /// When references to `Model` carry delete rules, the matching ids are read first and the
    /// rules applied to them (a `deny` refuses the whole delete). A document that starts to match
    /// between that read and the delete is deleted without its rules being applied.
    @discardableResult
    public func delete() async throws -> Int {
        let collection = try collection()
        guard !DeleteRules.rules(for: Model.self).isEmpty else {
            return try await collection.deleteMany(filterDocument).deletedCount
        }
        // Only ObjectIds can be referenced; other matches are deleted by the filter all the same.
        let cursor = try await collection.find(filterDocument, options: FindOptions(projection: ["_id": 1]))
        let ids = try await cursor.collected().compactMap { $0["_id"]?.objectIDValue }
        let plan = try await DeletionPlan(deleting: ids, of: Model.self, in: database)
        let deleted = try await collection.deleteMany(filterDocument).deletedCount
        try await plan.applyAfterDelete()
        return deleted
    }

    /// Applies `updates` to every match in one command and returns how many changed (skip,
    /// limit and sort are ignored, as for ``delete()``).
    ///
    /// ```swift
    /// try await Person.objects.filter(\.$age < 18).update(.set(\.$tags, ["minor"]), .increment(\.$age, by: 1))
    /// ```
    /// - Throws: `MongoError`; ``DocumentError`` `.invalidFieldKey` for a value holding a key
    ///   that may not be stored (see ``Document``); `BSONError` `.nestingTooDeep` (naming the
    ///   field's path) for a value nested past MongoDB's 100 levels. Nothing is sent then.
    @discardableResult
    public func update(_ updates: Update<Model>...) async throws -> Int {
        var operators: [String: BSONDocument] = [:]
        var order: [String] = []
        for update in updates {
            guard let key = update.key else {
                throw DocumentError(.notAField, collection: Model.collectionName, documentID: nil, field: update.problem)
            }
            if let bad = StoredKeys.firstInvalidKey(in: update.value) {
                throw DocumentError(.invalidFieldKey, collection: Model.collectionName, documentID: nil,
                                    field: StoredKeys.describe(bad, in: key))
            }
            if operators[update.operatorName] == nil { order.append(update.operatorName) }
            try operators[update.operatorName, default: BSONDocument()].append(key, update.value)
        }
        var document = BSONDocument()
        for name in order { try document.appendOperator(name, .document(operators[name] ?? [:])) }
        return try await collection().updateMany(filterDocument, document).modifiedCount
    }
}

/// One change applied by ``Query/update(_:)`` to every matching document.
public struct Update<Model: Document>: Sendable {
    let operatorName: String
    /// nil when the key path named no field of `Model` (the update then throws).
    let key: String?
    let value: BSONValue
    var problem: String?

    init(operatorName: String, keyPath: AnyKeyPath, value: BSONValue) {
        self.operatorName = operatorName
        self.key = Model.fieldKey(keyPath)
        self.value = value
        self.problem = key == nil ? Model.describe(keyPath) : nil
    }

    /// Sets the field to `value`.
    public static func set<V: FieldValue>(_ keyPath: KeyPath<Model, Field<V>>, _ value: V) -> Update {
        Update(operatorName: "$set", keyPath: keyPath, value: value.bsonValue)
    }

    /// Removes the optional field from the stored documents.
    public static func unset<V: FieldValue>(_ keyPath: KeyPath<Model, Field<V?>>) -> Update {
        Update(operatorName: "$unset", keyPath: keyPath, value: "")
    }

    /// Adds `amount` to the numeric field.
    public static func increment<V: FieldValue & Numeric>(_ keyPath: KeyPath<Model, Field<V>>, by amount: V) -> Update {
        Update(operatorName: "$inc", keyPath: keyPath, value: amount.bsonValue)
    }

    /// Appends `element` to the array field.
    public static func push<E: FieldValue>(_ keyPath: KeyPath<Model, Field<[E]>>, _ element: E) -> Update {
        Update(operatorName: "$push", keyPath: keyPath, value: element.bsonValue)
    }
}

extension Query: AsyncSequence {
    /// Each element is a document created from one stored document as it is reached.
    public typealias Element = Model

    /// Streams the matches: opens the cursor on the first `next()`, then fetches batches as
    /// they are consumed.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var documents: HydratedDocuments<Model>

        /// The next document; throws `MongoError`, or ``DocumentError`` if a stored document
        /// does not fit `Model` (the documents before it were delivered).
        /// Runs on the caller's executor, so a document fetched already is handed over without
        /// an executor hop (only fetching a batch moves to Tendril's threads).
        public nonisolated(nonsending) mutating func next() async throws -> Model? {
            if let ready = try documents.nextReady() { return ready }
            return try await documents.next()
        }
    }

    /// An iterator that opens its own cursor.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(documents: HydratedDocuments(self))
    }
}

extension MongoCursor {
    /// The next document, fetched on Tendril's threads.
    func nextDocument() async throws -> BSONDocument? {
        try await BlockingExecutor.shared.run { try self.next() }
    }
}
