internal import CTendrilMongoC

/// One operation of a `MongoCollection.bulkWrite(_:ordered:)`.
///
/// ```swift
/// try people.bulkWrite([
///     .insertOne(["name": "Ada"]),
///     .updateOne(filter: ["name": "Alan"], update: ["$set": ["age": 41]], upsert: true),
///     .deleteMany(filter: ["inactive": true]),
/// ])
/// ```
public enum WriteModel: Sendable {
    /// Inserts a document (an ObjectId `_id` is added first when it has none).
    case insertOne(BSONDocument)
    /// Applies update operators to the first match.
    case updateOne(filter: BSONDocument, update: BSONDocument, upsert: Bool = false)
    /// Applies update operators to every match.
    case updateMany(filter: BSONDocument, update: BSONDocument, upsert: Bool = false)
    /// Replaces the first match with a document without operators.
    case replaceOne(filter: BSONDocument, replacement: BSONDocument, upsert: Bool = false)
    /// Deletes the first match.
    case deleteOne(filter: BSONDocument)
    /// Deletes every match.
    case deleteMany(filter: BSONDocument)
}

extension MongoCollection {
    /// Sends many writes in as few round trips as the server allows.
    /// - Parameters:
    ///   - operations: the writes, sent in this order.
    ///   - ordered: stop at the first failure (true) or attempt every operation (false).
    /// - Throws: ``MongoError`` `.write` with the server's `writeErrors` in `reply`;
    ///   `.invalidArgument` when an operation is malformed (nothing is sent then).
    @discardableResult
    @available(*, noasync, message: "use the async twin: try await collection.bulkWrite(_:ordered:)")
    public func bulkWrite(_ operations: [WriteModel], ordered: Bool = true) throws -> BulkWriteResult {
        guard !operations.isEmpty else { return BulkWriteResult(reply: [:]) }
        let options: BSONDocument = ["ordered": .bool(ordered)]
        var insertedIDs: [Int: BSONValue] = [:]
        // The budget checks the first command; libmongoc sends one per run of like operations.
        let reply = try withCollectionForWrite(sending: operations[0].commandName) { collection in
            try options.withBSON { opts in
                guard let bulk = mongoc_collection_create_bulk_operation_with_opts(collection, opts) else {
                    throw MongoError(kind: .invalidArgument, message: "libmongoc refused the bulk write options")
                }
                defer { mongoc_bulk_operation_destroy(bulk) }
                for (index, operation) in operations.enumerated() {
                    insertedIDs[index] = try Self.add(operation, to: bulk)
                }
                return try performLibmongocCall { reply, error in
                    mongoc_bulk_operation_execute(bulk, reply, error) != 0
                }
            }
        }
        return BulkWriteResult(reply: reply, insertedIDs: insertedIDs)
    }

    /// Queues `operation`; returns the `_id` of an inserted document.
    private static func add(_ operation: WriteModel, to bulk: OpaquePointer) throws -> BSONValue? {
        switch operation {
        case .insertOne(let document):
            let (withID, id) = try ensuringID(document)
            try withID.withBSON { document in
                try performLibmongocCall { error in mongoc_bulk_operation_insert_with_opts(bulk, document, nil, error) }
            }
            return id
        case .updateOne(let filter, let update, let upsert):
            try addUpdate(bulk, filter, update, upsert, mongoc_bulk_operation_update_one_with_opts)
        case .updateMany(let filter, let update, let upsert):
            try addUpdate(bulk, filter, update, upsert, mongoc_bulk_operation_update_many_with_opts)
        case .replaceOne(let filter, let replacement, let upsert):
            try addUpdate(bulk, filter, replacement, upsert, mongoc_bulk_operation_replace_one_with_opts)
        case .deleteOne(let filter):
            try filter.withBSON { filter in
                try performLibmongocCall { error in mongoc_bulk_operation_remove_one_with_opts(bulk, filter, nil, error) }
            }
        case .deleteMany(let filter):
            try filter.withBSON { filter in
                try performLibmongocCall { error in mongoc_bulk_operation_remove_many_with_opts(bulk, filter, nil, error) }
            }
        }
        return nil
    }

    private typealias BulkUpdateCall = (OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<bson_error_t>?) -> Bool

    private static func addUpdate(_ bulk: OpaquePointer, _ filter: BSONDocument, _ update: BSONDocument,
                                  _ upsert: Bool, _ call: BulkUpdateCall) throws {
        try update.checkStorable()
        let options: BSONDocument = ["upsert": .bool(upsert)]
        try filter.withBSON { filter in
            try update.withBSON { update in
                try options.withBSON { opts in
                    try performLibmongocCall { error in call(bulk, filter, update, opts, error) }
                }
            }
        }
    }
}

extension WriteModel {
    /// The write command that carries this operation.
    var commandName: String {
        switch self {
        case .insertOne: "insert"
        case .updateOne, .updateMany, .replaceOne: "update"
        case .deleteOne, .deleteMany: "delete"
        }
    }
}
