/// What `MongoCollection.insertOne(_:)` did.
public struct InsertOneResult: Sendable, Equatable {
    /// The `_id` of the inserted document (generated when the document had none).
    public let insertedID: BSONValue
}

/// What `MongoCollection.insertMany(_:ordered:)` did.
public struct InsertManyResult: Sendable, Equatable {
    /// How many documents were inserted.
    public let insertedCount: Int
    /// The `_id` of each document, in input order.
    public let insertedIDs: [BSONValue]
}

/// What an update or replace did.
public struct UpdateResult: Sendable, Equatable {
    /// How many documents matched the filter.
    public let matchedCount: Int
    /// How many were actually changed.
    public let modifiedCount: Int
    /// How many were inserted by an upsert (0 or 1 for single updates).
    public let upsertedCount: Int
    /// The `_id` of the upserted document, if any.
    public let upsertedID: BSONValue?

    init(reply: BSONDocument) {
        matchedCount = reply.count("matchedCount")
        modifiedCount = reply.count("modifiedCount")
        upsertedCount = reply.count("upsertedCount")
        upsertedID = reply["upsertedId"]
    }
}

/// What a delete did.
public struct DeleteResult: Sendable, Equatable {
    /// How many documents were deleted.
    public let deletedCount: Int
}

/// What a bulk write did, summed over all its operations.
public struct BulkWriteResult: Sendable, Equatable {
    /// How many documents were inserted.
    public let insertedCount: Int
    /// How many documents update and replace operations matched.
    public let matchedCount: Int
    /// How many of those were actually changed.
    public let modifiedCount: Int
    /// How many documents were deleted.
    public let deletedCount: Int
    /// How many documents upserts inserted.
    public let upsertedCount: Int
    /// The `_id` of each document an `insertOne` sent (generated when it had none), keyed by
    /// the index of its operation. An ordered bulk write that failed may not have stored all.
    public let insertedIDs: [Int: BSONValue]
    /// The `_id` of each upserted document, keyed by the index of its operation.
    public let upsertedIDs: [Int: BSONValue]

    init(reply: BSONDocument, insertedIDs: [Int: BSONValue] = [:]) {
        self.insertedIDs = insertedIDs
        insertedCount = reply.count("nInserted")
        matchedCount = reply.count("nMatched")
        modifiedCount = reply.count("nModified")
        deletedCount = reply.count("nRemoved")
        upsertedCount = reply.count("nUpserted")
        var ids: [Int: BSONValue] = [:]
        for entry in reply["upserted"]?.arrayValue ?? [] {
            if let entry = entry.documentValue, let id = entry["_id"] {
                ids[entry.count("index")] = id
            }
        }
        upsertedIDs = ids
    }
}
