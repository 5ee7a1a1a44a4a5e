import TendrilDriver

/// A lazy, immutable query over the documents of `Model`: every method returns a new query,
/// and nothing is sent until it is iterated or a terminal method runs.
///
/// ```swift
/// let adults = Person.objects
///     .filter(\.$age >= 18)
///     .sort(\.$name)
///     .limit(50)
/// for try await person in adults { print(person.name) }     // streams, batch by batch
/// let count = try await adults.count()
/// ```
/// > Note: Iteration streams through the server cursor: however many documents match, only
/// about one batch (``batchSize(_:)``) is held at a time, and each document is created as it is
/// reached. `Query` is `Sendable`; the documents it yields are not.
public struct Query<Model: Document>: Sendable {
    /// The filter, as sent.
    public private(set) var filterDocument = BSONDocument()
    /// The sort order, as sent.
    public private(set) var sortDocument = BSONDocument()
    var skipCount: Int?
    var limitCount: Int?
    var batch: Int?
    var database: MongoDatabase?
    /// The reference cache policy of the documents it loads (nil: their class's).
    var policy: CachePolicy?
    /// The fetch mode of the documents it loads (nil: their class's).
    var mode: FetchMode?
    /// Reference fields resolved per batch of documents.
    var prefetchPlan = PrefetchPlan<Model>()
    /// Key paths that named no field; running the query throws for the first.
    var problems: [String] = []

    /// All documents of `Model`.
    public init() {}

    /// Keeps the documents that also match `predicate`.
    public func filter(_ predicate: Predicate<Model>) -> Query {
        var query = self
        if let problem = predicate.problem { query.problems.append(problem) }
        if query.filterDocument.isEmpty {
            query.filterDocument = predicate.document
        } else {
            query.filterDocument = ["$and": [.document(filterDocument), .document(predicate.document)]]
        }
        return query
    }

    /// Keeps the documents that also match a raw MongoDB filter (its operators are yours).
    public func filter(raw document: BSONDocument) -> Query {
        filter(Predicate(raw: document))
    }

    /// Sorts by `keyPath`, after any earlier sort keys.
    public func sort<V: FieldValue>(_ keyPath: KeyPath<Model, Field<V>>, _ order: SortOrder = .ascending) -> Query {
        var query = self
        guard let key = Model.fieldKey(keyPath) else {
            query.problems.append(Model.describe(keyPath))
            return query
        }
        do {
            try query.sortDocument.append(key, .int32(order == .ascending ? 1 : -1))
        } catch {
            // A key BSON cannot encode (a NUL in a declared key): running the query reports it.
            query.problems.append(Model.describe(keyPath))
        }
        return query
    }

    /// Skips the first `count` matches.
    public func skip(_ count: Int) -> Query { with { $0.skipCount = count } }

    /// Returns at most `count` documents.
    public func limit(_ count: Int) -> Query { with { $0.limitCount = count } }

    /// Fetches `size` documents per round trip (and holds about that many at a time).
    public func batchSize(_ size: Int) -> Query { with { $0.batch = size } }

    /// Runs against `database` instead of the class's.
    public func using(_ database: MongoDatabase) -> Query { with { $0.database = database } }

    /// Gives each document it loads a reference cache with `policy` (passed on to the
    /// documents their references resolve to).
    ///
    /// ```swift
    /// for try await person in Person.objects.cachePolicy(.lru(capacity: 32)) { ... }
    /// ```
    public func cachePolicy(_ policy: CachePolicy) -> Query { with { $0.policy = policy } }

    /// Gives each document it loads a reference cache that keeps nothing: the same as
    /// `cachePolicy(.none)`.
    public func noCache() -> Query { cachePolicy(.none) }

    /// Gives each document it loads `mode` for its lazy references (passed on to the documents
    /// their references resolve to).
    ///
    /// ```swift
    /// // Prove the loop sends only the declared queries: any other lazy load throws.
    /// for try await meeting in Meeting.objects.fetchMode(.raise).prefetch(\.$division) { ... }
    /// ```
    public func fetchMode(_ mode: FetchMode) -> Query { with { $0.mode = mode } }

    /// The database, policy and fetch mode its documents' references use, or nil when the query
    /// sets none.
    var referenceSettings: ReferenceSettings? { .make(database: database, policy: policy, fetchMode: mode) }

    /// A copy with `change` applied: every builder returns a new query.
    private func with(_ change: (inout Query) -> Void) -> Query {
        var query = self
        change(&query)
        return query
    }

    var findOptions: FindOptions {
        FindOptions(sort: sortDocument.isEmpty ? nil : sortDocument, skip: skipCount, limit: limitCount, batchSize: batch)
    }

    /// The collection to run against, once the query is known to be valid.
    /// - Throws: ``DocumentError`` `.notAField` for a key path that named no field.
    func collection() throws -> MongoCollection {
        if let problem = problems.first ?? prefetchPlan.problems.first ?? Schema.of(Model.self).declarationProblem {
            throw DocumentError(.notAField, collection: Model.collectionName, documentID: nil, field: problem)
        }
        return try Model.collection(in: database)
    }
}

/// The direction of a sort.
public enum SortOrder: Sendable {
    case ascending, descending
}

/// Gives every ``Document`` class its `objects` query (a protocol, so that `Self` can be the
/// concrete subclass).
public protocol QueryableDocument: Document {}

extension Document: QueryableDocument {}

extension QueryableDocument {
    /// A query over every document of this class: the start of every query.
    ///
    /// ```swift
    /// let grace = try await Person.objects.filter(\.$name == "Grace").first()
    /// ```
    public static var objects: Query<Self> { Query() }

    /// Creates a document from BSON obtained elsewhere (a raw driver call, a file, a message),
    /// checking it exactly as a query result is checked. Saving it later updates by its `_id`.
    ///
    /// ```swift
    /// let person = try Person.decoding(bson)
    /// ```
    /// - Throws: ``DocumentError`` `.typeMismatch` or `.missingRequiredField`, naming the field.
    public static func decoding(_ document: BSONDocument) throws -> Self {
        try hydrate(document)
    }
}
