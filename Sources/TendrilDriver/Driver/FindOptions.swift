/// Options of a find: what to return, in which order, how much, in batches of what size.
///
/// ```swift
/// let options = FindOptions(projection: ["name": 1], sort: ["age": -1], skip: 20, limit: 10, batchSize: 100)
/// let page = try people.find(["active": true], options: options).toArray()
/// ```
public struct FindOptions: Sendable {
    /// Which fields to return (`["name": 1]`) or leave out (`["bio": 0]`).
    public var projection: BSONDocument?
    /// Sort order, such as `["age": -1, "name": 1]`.
    public var sort: BSONDocument?
    /// How many matching documents to skip.
    public var skip: Int?
    /// The most documents to return.
    public var limit: Int?
    /// How many documents each server round trip returns.
    public var batchSize: Int?
    /// Any other `find` option (`hint`, `collation`, `maxTimeMS`, ...), passed through as is.
    public var extra: BSONDocument

    /// Creates find options; every parameter is optional.
    public init(projection: BSONDocument? = nil, sort: BSONDocument? = nil, skip: Int? = nil,
                limit: Int? = nil, batchSize: Int? = nil, extra: BSONDocument = [:]) {
        self.projection = projection
        self.sort = sort
        self.skip = skip
        self.limit = limit
        self.batchSize = batchSize
        self.extra = extra
    }

    func document() throws -> BSONDocument {
        var options = extra
        if let projection { try options.append("projection", .document(projection)) }
        if let sort { try options.append("sort", .document(sort)) }
        if let skip { try options.append("skip", .int64(Int64(try nonNegative(skip, "skip")))) }
        if let limit { try options.append("limit", .int64(Int64(try nonNegative(limit, "limit")))) }
        if let batchSize {
            let size = try nonNegative(batchSize, "batchSize")
            guard let size32 = Int32(exactly: size) else {
                throw MongoError(kind: .invalidArgument, message: "batchSize \(batchSize) exceeds Int32")
            }
            try options.append("batchSize", .int32(size32))
        }
        return options
    }

    private func nonNegative(_ value: Int, _ name: String) throws -> Int {
        guard value >= 0 else {
            throw MongoError(kind: .invalidArgument, message: "\(name) must not be negative, got \(value)")
        }
        return value
    }
}

/// What ``MongoCollection/insertOne(_:)`` did.
public struct InsertOneResult: Sendable, Equatable {
    /// The `_id` of the inserted document (generated when the document had none).
    public let insertedID: BSONValue
}

/// What ``MongoCollection/insertMany(_:ordered:)`` did.
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
    public let insertedCount: Int
    public let matchedCount: Int
    public let modifiedCount: Int
    public let deletedCount: Int
    public let upsertedCount: Int
    /// The `_id` of each upserted document, keyed by the index of its operation.
    public let upsertedIDs: [Int: BSONValue]

    init(reply: BSONDocument) {
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
