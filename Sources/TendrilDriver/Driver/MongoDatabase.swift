internal import CTendrilMongoC

/// A database on a ``MongoClient``; a lightweight value, cheap to create.
///
/// ```swift
/// let db = client.database("app")
/// let reply = try db.runCommand(["ping": 1])
/// ```
public struct MongoDatabase: Sendable {
    /// The client this database belongs to.
    public let client: MongoClient
    /// The database name.
    public let name: String

    /// The collection named `name` in this database.
    public func collection(_ name: String) -> MongoCollection {
        MongoCollection(database: self, name: name)
    }

    /// Runs `command` against this database and returns the server's reply.
    /// - Throws: ``MongoError`` (`.command` when the server answers `ok: 0`).
    public func runCommand(_ command: BSONDocument) throws -> BSONDocument {
        try validateName(name, "database")
        return try client.pool.withClient { client in
            try command.withBSON { command in
                try performLibmongocCall { reply, error in
                    mongoc_client_command_simple(client, name, command, nil, reply, error)
                }
            }
        }
    }

    /// Drops the database and every collection in it.
    /// - Throws: ``MongoError``.
    public func drop() throws {
        _ = try runCommand(["dropDatabase": 1])
    }

    /// The names of the collections in this database.
    /// - Throws: ``MongoError``.
    public func listCollectionNames() throws -> [String] {
        let reply = try runCommand(["listCollections": 1, "nameOnly": true])
        guard let cursor = reply["cursor"]?.documentValue else { return [] }
        var names = (cursor["firstBatch"]?.arrayValue ?? []).compactMap { $0.documentValue?["name"]?.stringValue }
        // Large databases spill into getMore batches.
        var cursorID = cursor["id"]?.int64Value ?? 0
        var collectionName = "$cmd.listCollections"
        if let namespace = cursor["ns"]?.stringValue, let dot = namespace.firstIndex(of: ".") {
            collectionName = String(namespace[namespace.index(after: dot)...])
        }
        while cursorID != 0 {
            let more = try runCommand(["getMore": .int64(cursorID), "collection": .string(collectionName)])
            let batch = more["cursor"]?.documentValue
            names += (batch?["nextBatch"]?.arrayValue ?? []).compactMap { $0.documentValue?["name"]?.stringValue }
            cursorID = batch?["id"]?.int64Value ?? 0
        }
        return names
    }
}

extension MongoDatabase {
    /// Runs `command` on Tendril's blocking threads. See ``runCommand(_:)``.
    public func runCommand(_ command: BSONDocument) async throws -> BSONDocument {
        try await BlockingExecutor.shared.run { try self.runCommand(command) }
    }

    /// Drops the database, on Tendril's blocking threads. See ``drop()``.
    public func drop() async throws {
        try await BlockingExecutor.shared.run { try self.drop() }
    }

    /// Lists collection names, on Tendril's blocking threads. See ``listCollectionNames()``.
    public func listCollectionNames() async throws -> [String] {
        try await BlockingExecutor.shared.run { try self.listCollectionNames() }
    }
}
