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
        if let batchSize { try options.append("batchSize", .int32(try validatedBatchSize(batchSize))) }
        return options
    }
}

private func nonNegative(_ value: Int, _ name: String) throws -> Int {
    guard value >= 0 else {
        throw MongoError(kind: .invalidArgument, message: "\(name) must not be negative, got \(value)")
    }
    return value
}

/// A batch size as the server takes it: 0 through Int32.max.
func validatedBatchSize(_ batchSize: Int) throws -> Int32 {
    guard let size = Int32(exactly: try nonNegative(batchSize, "batchSize")) else {
        throw MongoError(kind: .invalidArgument, message: "batchSize \(batchSize) exceeds Int32")
    }
    return size
}
