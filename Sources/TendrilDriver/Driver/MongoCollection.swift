internal import CTendrilMongoC

/// A collection: CRUD, counts, aggregation, indexes and bulk writes, blocking or async.
///
/// ```swift
/// let people = client.database("app").collection("people")
/// let id = try people.insertOne(["name": "Ada", "age": 36]).insertedID
/// try people.updateOne(["_id": id], ["$inc": ["age": 1]])
/// for try await person in try people.find(["age": ["$gt": 30]]) { print(person) }
/// ```
/// > Note: Blocking methods wait on the network. In async code use the `async` variants: they
/// run the same calls on Tendril's own threads, never on Swift's cooperative pool.
public struct MongoCollection: Sendable {
    /// The database this collection belongs to.
    public let database: MongoDatabase
    /// The collection name.
    public let name: String

    var client: MongoClient { database.client }

    /// Lends a `mongoc_collection_t` (on a pooled client) to `body`, which sends `command`; the
    /// task's ``QueryBudget`` is checked before a connection is taken; the client's tracing and
    /// metrics see it as the operation `command`.
    func withCollection<R>(sending command: String, _ body: (OpaquePointer) throws -> R) throws -> R {
        try validateName(database.name, "database")
        try validateName(name, "collection")
        return try OperationObservation.run(command, database: database.name, collection: name, telemetry: client.pool.telemetry) {
            try CommandSending.sending(command, to: name) { try lendCollection(body) }
        }
    }

    private func lendCollection<R>(_ body: (OpaquePointer) throws -> R) throws -> R {
        try client.pool.withClient { client in
            let collection = mongoc_client_get_collection(client, database.name, name)
            defer { mongoc_collection_destroy(collection) }
            guard let collection else {
                throw MongoError(kind: .invalidArgument, message: "cannot open collection \(database.name).\(name)")
            }
            return try body(collection)
        }
    }

    /// Lends the collection to a write: a failure that leaves unknown whether the server applied
    /// it says so (``MongoError/isWriteOutcomeUnknown``, see `performWrite`).
    func withCollectionForWrite<R>(sending command: String, _ body: (OpaquePointer) throws -> R) throws -> R {
        try performWrite { try withCollection(sending: command, body) }
    }

    // MARK: Reading

    /// The documents matching `filter`, streamed through a server cursor.
    /// - Throws: ``MongoError`` `.invalidArgument` for invalid options; network and server
    ///   errors surface from the cursor's `next()`.
    @available(*, noasync, message: "use the async twin: try await collection.find(_:options:)")
    public func find(_ filter: BSONDocument = [:], options: FindOptions = FindOptions()) throws -> MongoCursor {
        let optionsDocument = try options.document()
        return try openCursor("find") { collection in
            try filter.withBSON { filter in
                try optionsDocument.withBSON { opts in mongoc_collection_find_with_opts(collection, filter, opts, nil) }
            }
        }
    }

    /// The first document matching `filter` (in `sort` order), or nil.
    /// - Throws: ``MongoError``.
    @available(*, noasync, message: "use the async twin: try await collection.findOne(_:projection:sort:)")
    public func findOne(_ filter: BSONDocument = [:], projection: BSONDocument? = nil,
                        sort: BSONDocument? = nil) throws -> BSONDocument? {
        let options = FindOptions(projection: projection, sort: sort, limit: 1, extra: ["singleBatch": true])
        let cursor = try find(filter, options: options)
        defer { cursor.close() }
        return try cursor.next()
    }

    /// How many documents match `filter` (an exact count, via an aggregation).
    /// - Throws: ``MongoError``.
    @available(*, noasync, message: "use the async twin: try await collection.countDocuments(_:)")
    public func countDocuments(_ filter: BSONDocument = [:]) throws -> Int {
        // libmongoc counts with an aggregation.
        try withCollection(sending: "aggregate") { collection in
            try filter.withBSON { filter in
                var error = bson_error_t()
                let count = mongoc_collection_count_documents(collection, filter, nil, nil, nil, &error)
                guard count >= 0 else { throw MongoError(error) }
                return Int(count)
            }
        }
    }

    /// Runs an aggregation pipeline and streams its results.
    ///
    /// ```swift
    /// let totals = try orders.aggregate([["$group": ["_id": "$customer", "total": ["$sum": "$amount"]]]])
    /// ```
    /// - Throws: ``MongoError``; server errors may surface from the cursor's `next()`.
    @available(*, noasync, message: "use the async twin: try await collection.aggregate(_:batchSize:)")
    public func aggregate(_ pipeline: [BSONDocument], batchSize: Int? = nil) throws -> MongoCursor {
        let pipelineDocument: BSONDocument = try BSONDocument().appending("pipeline", .array(pipeline.map(BSONValue.document)))
        var options = BSONDocument()
        if let batchSize { try options.append("batchSize", .int32(try validatedBatchSize(batchSize))) }
        return try openCursor("aggregate") { collection in
            try pipelineDocument.withBSON { pipeline in
                try options.withBSON { opts in mongoc_collection_aggregate(collection, MONGOC_QUERY_NONE, pipeline, opts, nil) }
            }
        }
    }

    // MARK: Writing

    /// Inserts `document`, giving it a new ObjectId `_id` first when it has none.
    /// - Throws: ``MongoError`` (`isDuplicateKey` for a unique-index violation).
    @discardableResult
    @available(*, noasync, message: "use the async twin: try await collection.insertOne(_:)")
    public func insertOne(_ document: BSONDocument) throws -> InsertOneResult {
        let (withID, id) = try Self.ensuringID(document)
        try withCollectionForWrite(sending: "insert") { collection in
            try withID.withBSON { document in
                _ = try performLibmongocCall { reply, error in
                    mongoc_collection_insert_one(collection, document, nil, reply, error)
                }
            }
        }
        return InsertOneResult(insertedID: id)
    }

    /// Inserts `documents` in one round trip (split by libmongoc at the server's batch limits).
    /// - Parameters:
    ///   - documents: the documents; those without an `_id` get a new ObjectId.
    ///   - ordered: stop at the first failure (true) or try every document (false).
    /// - Throws: ``MongoError`` `.write`; `reply` holds `writeErrors` and `insertedCount`.
    @discardableResult
    @available(*, noasync, message: "use the async twin: try await collection.insertMany(_:ordered:)")
    public func insertMany(_ documents: [BSONDocument], ordered: Bool = true) throws -> InsertManyResult {
        guard !documents.isEmpty else { return InsertManyResult(insertedCount: 0, insertedIDs: []) }
        let prepared = try documents.map(Self.ensuringID)
        let options: BSONDocument = ["ordered": .bool(ordered)]
        let reply: BSONDocument = try withCollectionForWrite(sending: "insert") { collection in
            try withBorrowedBSONs(prepared.map(\.0)) { pointers in
                try options.withBSON { opts in
                    try performLibmongocCall { reply, error in
                        pointers.withUnsafeMutableBufferPointer { buffer in
                            mongoc_collection_insert_many(collection, buffer.baseAddress, buffer.count, opts, reply, error)
                        }
                    }
                }
            }
        }
        return InsertManyResult(insertedCount: reply.count("insertedCount"), insertedIDs: prepared.map(\.1))
    }

    /// Updates the first document matching `filter` with the operators in `update`.
    /// - Throws: ``MongoError``.
    @discardableResult
    @available(*, noasync, message: "use the async twin: try await collection.updateOne(_:_:upsert:)")
    public func updateOne(_ filter: BSONDocument, _ update: BSONDocument, upsert: Bool = false) throws -> UpdateResult {
        try runUpdate(filter, update, upsert: upsert, mongoc_collection_update_one)
    }

    /// Updates every document matching `filter` with the operators in `update`.
    /// - Throws: ``MongoError``.
    @discardableResult
    @available(*, noasync, message: "use the async twin: try await collection.updateMany(_:_:upsert:)")
    public func updateMany(_ filter: BSONDocument, _ update: BSONDocument, upsert: Bool = false) throws -> UpdateResult {
        try runUpdate(filter, update, upsert: upsert, mongoc_collection_update_many)
    }

    /// Replaces the first document matching `filter` with `replacement` (which holds no operators).
    /// - Throws: ``MongoError``.
    @discardableResult
    @available(*, noasync, message: "use the async twin: try await collection.replaceOne(_:_:upsert:)")
    public func replaceOne(_ filter: BSONDocument, _ replacement: BSONDocument, upsert: Bool = false) throws -> UpdateResult {
        try runUpdate(filter, replacement, upsert: upsert, mongoc_collection_replace_one)
    }

    /// Deletes the first document matching `filter`.
    /// - Throws: ``MongoError``.
    @discardableResult
    @available(*, noasync, message: "use the async twin: try await collection.deleteOne(_:)")
    public func deleteOne(_ filter: BSONDocument) throws -> DeleteResult {
        try runDelete(filter, mongoc_collection_delete_one)
    }

    /// Deletes every document matching `filter` (`[:]` empties the collection).
    /// - Throws: ``MongoError``.
    @discardableResult
    @available(*, noasync, message: "use the async twin: try await collection.deleteMany(_:)")
    public func deleteMany(_ filter: BSONDocument) throws -> DeleteResult {
        try runDelete(filter, mongoc_collection_delete_many)
    }

    /// Drops the collection with its indexes; dropping a missing collection is not an error.
    /// - Throws: ``MongoError``.
    @available(*, noasync, message: "use the async twin: try await collection.drop()")
    public func drop() throws {
        do {
            try withCollection(sending: "drop") { collection in
                try performLibmongocCall { error in mongoc_collection_drop_with_opts(collection, nil, error) }
            }
        } catch let error as MongoError where error.isNamespaceNotFound {
            return  // Already gone: MongoDB 7 itself reports success here.
        }
    }

    // MARK: Helpers

    /// Opens a cursor on a pooled client; the cursor then owns the client and the collection
    /// until it is exhausted or closed.
    func openCursor(_ operation: String, _ open: (OpaquePointer) throws -> OpaquePointer?) throws -> MongoCursor {
        try validateName(database.name, "database")
        try validateName(name, "collection")
        let pool = client.pool
        let client = try pool.pop()
        guard let collection = mongoc_client_get_collection(client, database.name, name) else {
            pool.push(client)
            throw MongoError(kind: .invalidArgument, message: "cannot open collection \(database.name).\(name)")
        }
        do {
            guard let cursor = try open(collection) else {
                throw MongoError(kind: .invalidArgument, message: "libmongoc refused the \(operation)")
            }
            // Errors libmongoc found while creating the cursor (bad options, no server for an
            // aggregate) are raised now rather than at the first next().
            var error = bson_error_t()
            if mongoc_cursor_error(cursor, &error) {
                mongoc_cursor_destroy(cursor)
                throw MongoError(error)
            }
            return MongoCursor(
                resources: CursorResources(cursor: cursor, collection: collection, client: client, pool: pool),
                openingCommand: operation, namespace: (database.name, name))
        } catch {
            mongoc_collection_destroy(collection)
            pool.push(client)
            throw error
        }
    }

    private typealias UpdateCall = (OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<bson_error_t>?) -> Bool
    private typealias DeleteCall = (OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<bson_error_t>?) -> Bool

    private func runUpdate(_ filter: BSONDocument, _ update: BSONDocument, upsert: Bool, _ call: UpdateCall) throws -> UpdateResult {
        try update.checkStorable()
        let options: BSONDocument = ["upsert": .bool(upsert)]
        let reply = try withCollectionForWrite(sending: "update") { collection in
            try filter.withBSON { filter in
                try update.withBSON { update in
                    try options.withBSON { opts in
                        try performLibmongocCall { reply, error in call(collection, filter, update, opts, reply, error) }
                    }
                }
            }
        }
        return UpdateResult(reply: reply)
    }

    private func runDelete(_ filter: BSONDocument, _ call: DeleteCall) throws -> DeleteResult {
        let reply = try withCollectionForWrite(sending: "delete") { collection in
            try filter.withBSON { filter in
                try performLibmongocCall { reply, error in call(collection, filter, nil, reply, error) }
            }
        }
        return DeleteResult(deletedCount: reply.count("deletedCount"))
    }

    /// Returns the document with an `_id` first (a new ObjectId if it had none), and that id.
    static func ensuringID(_ document: BSONDocument) throws -> (BSONDocument, BSONValue) {
        try document.checkStorable()
        if let id = document["_id"] { return (document, id) }
        let id = BSONValue.objectID(ObjectID())
        var withID: BSONDocument = ["_id": id]
        for (key, value) in document { try withID.append(key, value) }
        try withID.checkStorable()   // the new `_id` adds 22 bytes
        return (withID, id)
    }
}

/// Lends the `bson_t` of every document at once (for libmongoc's array parameters).
func withBorrowedBSONs<R>(_ documents: [BSONDocument], _ body: (inout [OpaquePointer?]) throws -> R) throws -> R {
    for document in documents { try document.checkEncodable() }
    // Inline documents get a view each, freed after the call.
    var views: [OpaquePointer] = []
    defer { views.forEach { tendril_bson_free_struct($0) } }
    var pointers: [OpaquePointer?] = try documents.map { document in
        if let owned = document.storage.growable { return owned }
        guard let view = tendril_bson_new_view(document.storage.data, UInt32(document.storage.length)) else {
            throw BSONError(.malformedBytes, "libbson refused a validated document")
        }
        views.append(view)
        return view
    }
    return try withExtendedLifetime(documents) { try body(&pointers) }
}
