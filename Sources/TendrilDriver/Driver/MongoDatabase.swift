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

    /// Runs `call`, which sends `command` (for `collection`): one operation for the task's
    /// ``QueryBudget`` and for the client's tracing and metrics.
    private func sending<Result>(_ command: String, to collection: String?, _ call: () throws -> Result) throws -> Result {
        try OperationObservation.run(command, database: name, collection: collection, telemetry: client.pool.telemetry) {
            try CommandSending.sending(command, to: collection, call)
        }
    }

    /// Runs `command` against this database and returns the server's reply.
    /// - Throws: ``MongoError`` (`.command` when the server answers `ok: 0`, `.writeConcern`
    ///   when the reply carries a `writeConcernError`).
    @available(*, noasync, message: "use the async twin: try await database.runCommand(_:)")
    public func runCommand(_ command: BSONDocument) throws -> BSONDocument {
        try validateName(name, "database")
        // A command names itself with its first key; its value names the collection, if any.
        let firstElement = command.first { _ in true }
        let reply = try sending(firstElement?.key ?? "", to: firstElement?.value.stringValue) {
            try client.pool.withClient { client in
                try command.withBSON { command in
                    try performLibmongocCall { reply, error in
                        mongoc_client_command_simple(client, name, command, nil, reply, error)
                    }
                }
            }
        }
        // mongoc_client_command_simple does not check write concern errors itself.
        if let writeConcernError = reply["writeConcernError"]?.documentValue {
            throw MongoError(
                kind: .writeConcern, domain: MONGOC_ERROR_WRITE_CONCERN.rawValue,
                code: UInt32(truncatingIfNeeded: writeConcernError.count("code")),
                message: writeConcernError["errmsg"]?.stringValue ?? "write concern error", reply: reply)
        }
        return reply
    }

    /// Drops the database and every collection in it.
    /// - Throws: ``MongoError``.
    @available(*, noasync, message: "use the async twin: try await database.drop()")
    public func drop() throws {
        _ = try runCommand(["dropDatabase": 1])
    }

    /// The names of the collections in this database.
    /// - Throws: ``MongoError``.
    @available(*, noasync, message: "use the async twin: try await database.listCollectionNames()")
    public func listCollectionNames() throws -> [String] {
        try validateName(name, "database")
        // One libmongoc call on one connection, so every getMore stays on the cursor's session.
        return try sending("listCollections", to: nil) {
            try client.pool.withClient { client in
                let database = mongoc_client_get_database(client, name)
                defer { mongoc_database_destroy(database) }
                var error = bson_error_t()
                guard let names = mongoc_database_get_collection_names_with_opts(database, nil, &error) else {
                    throw MongoError(error)
                }
                defer { bson_strfreev(names) }
                var result: [String] = []
                var index = 0
                while let name = names[index] {
                    result.append(String(cString: name))
                    index += 1
                }
                return result
            }
        }
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
