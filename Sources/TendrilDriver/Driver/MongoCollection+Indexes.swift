internal import CTendrilMongoC

/// An index to create: its keys and options.
///
/// ```swift
/// try people.createIndex(IndexModel(keys: ["email": 1], unique: true))
/// try sessions.createIndex(IndexModel(keys: ["lastSeen": 1], expireAfterSeconds: 3600))
/// ```
public struct IndexModel: Sendable {
    /// The indexed fields and their directions or types (`["age": -1]`, `["location": "2dsphere"]`).
    public var keys: BSONDocument
    /// The index name; derived from the keys (`age_-1`) when nil.
    public var name: String?
    /// Reject documents that would duplicate an indexed value.
    public var unique: Bool
    /// Index only documents that have the indexed fields.
    public var sparse: Bool
    /// Delete documents this many seconds after their indexed date (a TTL index).
    public var expireAfterSeconds: Int?
    /// Any other index option (`partialFilterExpression`, `collation`, ...).
    public var extra: BSONDocument

    /// Describes an index; only `keys` is required.
    public init(keys: BSONDocument, name: String? = nil, unique: Bool = false, sparse: Bool = false,
                expireAfterSeconds: Int? = nil, extra: BSONDocument = [:]) {
        self.keys = keys
        self.name = name
        self.unique = unique
        self.sparse = sparse
        self.expireAfterSeconds = expireAfterSeconds
        self.extra = extra
    }

    /// The name MongoDB's drivers derive from the keys: `field_direction` joined by `_`.
    public var resolvedName: String {
        name ?? keys.map { key, value in
            let direction = value.intValue.map(String.init) ?? value.stringValue ?? value.description
            return "\(key)_\(direction)"
        }.joined(separator: "_")
    }

    func specification() throws -> BSONDocument {
        var index: BSONDocument = ["key": .document(keys), "name": .string(resolvedName)]
        if unique { try index.append("unique", true) }
        if sparse { try index.append("sparse", true) }
        if let expireAfterSeconds { try index.append("expireAfterSeconds", .int64(Int64(expireAfterSeconds))) }
        for (key, value) in extra { try index.append(key, value) }
        return index
    }
}

extension MongoCollection {
    /// Creates `index` if it does not exist yet, and returns its name.
    /// - Throws: ``MongoError`` (for example when an index of that name exists with other options).
    @discardableResult
    @available(*, noasync, message: "use the async twin: try await collection.createIndex(_:)")
    public func createIndex(_ index: IndexModel) throws -> String {
        try createIndexes([index]).first ?? index.resolvedName
    }

    /// Creates several indexes in one command, and returns their names.
    /// - Throws: ``MongoError``.
    @discardableResult
    @available(*, noasync, message: "use the async twin: try await collection.createIndexes(_:)")
    public func createIndexes(_ indexes: [IndexModel]) throws -> [String] {
        let specifications = try indexes.map { BSONValue.document(try $0.specification()) }
        let command: BSONDocument = ["createIndexes": .string(name), "indexes": .array(specifications)]
        _ = try database.runCommand(command)
        return indexes.map(\.resolvedName)
    }

    /// The collection's index specifications, as the server lists them.
    /// - Throws: ``MongoError``.
    @available(*, noasync, message: "use the async twin: try await collection.listIndexes()")
    public func listIndexes() throws -> [BSONDocument] {
        let indexCursor = try openCursor("listIndexes") { collection in
            mongoc_collection_find_indexes_with_opts(collection, nil)
        }
        // libmongoc answers an empty list for a collection that does not exist.
        return try indexCursor.toArray()
    }

    /// Drops the index named `name`.
    /// - Throws: ``MongoError``.
    @available(*, noasync, message: "use the async twin: try await collection.dropIndex(_:)")
    public func dropIndex(_ name: String) throws {
        try validateName(name, "index")
        try withCollection(sending: "dropIndexes") { collection in
            try performLibmongocCall { error in mongoc_collection_drop_index_with_opts(collection, name, nil, error) }
        }
    }
}
