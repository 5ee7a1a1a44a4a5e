// The async variants: the same calls, run on Tendril's blocking threads so that a
// network wait never occupies a thread of Swift's cooperative pool.

extension MongoCollection {
    /// Async ``find(_:options:)``; iterate the cursor with `for try await`.
    public func find(_ filter: BSONDocument = [:], options: FindOptions = FindOptions()) async throws -> MongoCursor {
        try await BlockingExecutor.shared.run { try self.find(filter, options: options) }
    }

    /// Async ``findOne(_:projection:sort:)``.
    public func findOne(_ filter: BSONDocument = [:], projection: BSONDocument? = nil,
                        sort: BSONDocument? = nil) async throws -> BSONDocument? {
        try await BlockingExecutor.shared.run { try self.findOne(filter, projection: projection, sort: sort) }
    }

    /// Async ``countDocuments(_:)``.
    public func countDocuments(_ filter: BSONDocument = [:]) async throws -> Int {
        try await BlockingExecutor.shared.run { try self.countDocuments(filter) }
    }

    /// Async ``aggregate(_:batchSize:)``.
    public func aggregate(_ pipeline: [BSONDocument], batchSize: Int? = nil) async throws -> MongoCursor {
        try await BlockingExecutor.shared.run { try self.aggregate(pipeline, batchSize: batchSize) }
    }

    /// Async ``insertOne(_:)``.
    @discardableResult
    public func insertOne(_ document: BSONDocument) async throws -> InsertOneResult {
        try await BlockingExecutor.shared.run { try self.insertOne(document) }
    }

    /// Async ``insertMany(_:ordered:)``.
    @discardableResult
    public func insertMany(_ documents: [BSONDocument], ordered: Bool = true) async throws -> InsertManyResult {
        try await BlockingExecutor.shared.run { try self.insertMany(documents, ordered: ordered) }
    }

    /// Async ``updateOne(_:_:upsert:)``.
    @discardableResult
    public func updateOne(_ filter: BSONDocument, _ update: BSONDocument, upsert: Bool = false) async throws -> UpdateResult {
        try await BlockingExecutor.shared.run { try self.updateOne(filter, update, upsert: upsert) }
    }

    /// Async ``updateMany(_:_:upsert:)``.
    @discardableResult
    public func updateMany(_ filter: BSONDocument, _ update: BSONDocument, upsert: Bool = false) async throws -> UpdateResult {
        try await BlockingExecutor.shared.run { try self.updateMany(filter, update, upsert: upsert) }
    }

    /// Async ``replaceOne(_:_:upsert:)``.
    @discardableResult
    public func replaceOne(_ filter: BSONDocument, _ replacement: BSONDocument, upsert: Bool = false) async throws -> UpdateResult {
        try await BlockingExecutor.shared.run { try self.replaceOne(filter, replacement, upsert: upsert) }
    }

    /// Async ``deleteOne(_:)``.
    @discardableResult
    public func deleteOne(_ filter: BSONDocument) async throws -> DeleteResult {
        try await BlockingExecutor.shared.run { try self.deleteOne(filter) }
    }

    /// Async ``deleteMany(_:)``.
    @discardableResult
    public func deleteMany(_ filter: BSONDocument) async throws -> DeleteResult {
        try await BlockingExecutor.shared.run { try self.deleteMany(filter) }
    }

    /// Async ``bulkWrite(_:ordered:)``.
    @discardableResult
    public func bulkWrite(_ operations: [WriteModel], ordered: Bool = true) async throws -> BulkWriteResult {
        try await BlockingExecutor.shared.run { try self.bulkWrite(operations, ordered: ordered) }
    }

    /// Async ``createIndex(_:)``.
    @discardableResult
    public func createIndex(_ index: IndexModel) async throws -> String {
        try await BlockingExecutor.shared.run { try self.createIndex(index) }
    }

    /// Async ``createIndexes(_:)``.
    @discardableResult
    public func createIndexes(_ indexes: [IndexModel]) async throws -> [String] {
        try await BlockingExecutor.shared.run { try self.createIndexes(indexes) }
    }

    /// Async ``listIndexes()``.
    public func listIndexes() async throws -> [BSONDocument] {
        try await BlockingExecutor.shared.run { try self.listIndexes() }
    }

    /// Async ``dropIndex(_:)``.
    public func dropIndex(_ name: String) async throws {
        try await BlockingExecutor.shared.run { try self.dropIndex(name) }
    }

    /// Async ``drop()``.
    public func drop() async throws {
        try await BlockingExecutor.shared.run { try self.drop() }
    }
}
