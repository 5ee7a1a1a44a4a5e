public import Logging

// The async variants: the same calls, run on Tendril's blocking threads so that a
// network wait never occupies a thread of Swift's cooperative pool. Each takes the `logger:`
// its commands are logged to (else the task's, else the client's background logger).

extension MongoCollection {
    /// Runs `body` on Tendril's threads, with `logger` as the task's logger when one is given.
    private func onTendrilThreads<Result: Sendable>(logger: Logger?, _ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        guard let logger else { return try await BlockingExecutor.shared.run(body) }
        return try await withLogger(logger) { _ in try await BlockingExecutor.shared.run(body) }
    }

    /// Async ``find(_:options:)``; iterate the cursor with `for try await`.
    ///
    /// ```swift
    /// // In a request handler: this query's commands are logged with the request's metadata.
    /// let cursor = try await people.find(["age": ["$gt": 30]], logger: request.logger)
    /// ```
    /// The `logger:` of every async operation logs the operation's commands (at `.debug`; with
    /// their documents at `.trace`) instead of the client's background logger. Without it, the
    /// task's logger (swift-log's `withLogger(_:_:)`) does, if one is bound.
    public func find(_ filter: BSONDocument = [:], options: FindOptions = FindOptions(), logger: Logger? = nil) async throws -> MongoCursor {
        try await onTendrilThreads(logger: logger) { try self.find(filter, options: options) }
    }

    /// Async ``findOne(_:projection:sort:)``.
    public func findOne(_ filter: BSONDocument = [:], projection: BSONDocument? = nil,
                        sort: BSONDocument? = nil, logger: Logger? = nil) async throws -> BSONDocument? {
        try await onTendrilThreads(logger: logger) { try self.findOne(filter, projection: projection, sort: sort) }
    }

    /// Async ``countDocuments(_:)``.
    public func countDocuments(_ filter: BSONDocument = [:], logger: Logger? = nil) async throws -> Int {
        try await onTendrilThreads(logger: logger) { try self.countDocuments(filter) }
    }

    /// Async ``aggregate(_:batchSize:)``.
    public func aggregate(_ pipeline: [BSONDocument], batchSize: Int? = nil, logger: Logger? = nil) async throws -> MongoCursor {
        try await onTendrilThreads(logger: logger) { try self.aggregate(pipeline, batchSize: batchSize) }
    }

    /// Async ``insertOne(_:)``.
    @discardableResult
    public func insertOne(_ document: BSONDocument, logger: Logger? = nil) async throws -> InsertOneResult {
        try await onTendrilThreads(logger: logger) { try self.insertOne(document) }
    }

    /// Async ``insertMany(_:ordered:)``.
    @discardableResult
    public func insertMany(_ documents: [BSONDocument], ordered: Bool = true, logger: Logger? = nil) async throws -> InsertManyResult {
        try await onTendrilThreads(logger: logger) { try self.insertMany(documents, ordered: ordered) }
    }

    /// Async ``updateOne(_:_:upsert:)``.
    @discardableResult
    public func updateOne(_ filter: BSONDocument, _ update: BSONDocument, upsert: Bool = false, logger: Logger? = nil) async throws -> UpdateResult {
        try await onTendrilThreads(logger: logger) { try self.updateOne(filter, update, upsert: upsert) }
    }

    /// Async ``updateMany(_:_:upsert:)``.
    @discardableResult
    public func updateMany(_ filter: BSONDocument, _ update: BSONDocument, upsert: Bool = false, logger: Logger? = nil) async throws -> UpdateResult {
        try await onTendrilThreads(logger: logger) { try self.updateMany(filter, update, upsert: upsert) }
    }

    /// Async ``replaceOne(_:_:upsert:)``.
    @discardableResult
    public func replaceOne(_ filter: BSONDocument, _ replacement: BSONDocument, upsert: Bool = false, logger: Logger? = nil) async throws -> UpdateResult {
        try await onTendrilThreads(logger: logger) { try self.replaceOne(filter, replacement, upsert: upsert) }
    }

    /// Async ``deleteOne(_:)``.
    @discardableResult
    public func deleteOne(_ filter: BSONDocument, logger: Logger? = nil) async throws -> DeleteResult {
        try await onTendrilThreads(logger: logger) { try self.deleteOne(filter) }
    }

    /// Async ``deleteMany(_:)``.
    @discardableResult
    public func deleteMany(_ filter: BSONDocument, logger: Logger? = nil) async throws -> DeleteResult {
        try await onTendrilThreads(logger: logger) { try self.deleteMany(filter) }
    }

    /// Async ``bulkWrite(_:ordered:)``.
    @discardableResult
    public func bulkWrite(_ operations: [WriteModel], ordered: Bool = true, logger: Logger? = nil) async throws -> BulkWriteResult {
        try await onTendrilThreads(logger: logger) { try self.bulkWrite(operations, ordered: ordered) }
    }

    /// Async ``createIndex(_:)``.
    @discardableResult
    public func createIndex(_ index: IndexModel, logger: Logger? = nil) async throws -> String {
        try await onTendrilThreads(logger: logger) { try self.createIndex(index) }
    }

    /// Async ``createIndexes(_:)``.
    @discardableResult
    public func createIndexes(_ indexes: [IndexModel], logger: Logger? = nil) async throws -> [String] {
        try await onTendrilThreads(logger: logger) { try self.createIndexes(indexes) }
    }

    /// Async ``listIndexes()``.
    public func listIndexes(logger: Logger? = nil) async throws -> [BSONDocument] {
        try await onTendrilThreads(logger: logger) { try self.listIndexes() }
    }

    /// Async ``dropIndex(_:)``.
    public func dropIndex(_ name: String, logger: Logger? = nil) async throws {
        try await onTendrilThreads(logger: logger) { try self.dropIndex(name) }
    }

    /// Async ``drop()``.
    public func drop(logger: Logger? = nil) async throws {
        try await onTendrilThreads(logger: logger) { try self.drop() }
    }
}
