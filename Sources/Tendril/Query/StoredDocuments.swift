import TendrilDriver

/// The stored documents a query streams: the cursor is opened on the first `next()` (so
/// building a query sends nothing), with the query's options and an optional projection.
/// Shared by the iterators of ``Query``, ``PartialQuery`` and ``ValuesQuery``.
struct StoredDocuments<Model: Document> {
    let query: Query<Model>
    let projection: BSONDocument?
    /// The query's database and cache policy, shared by every document it creates.
    let settings: ReferenceSettings?
    private var cursor: MongoCursor.AsyncIterator?

    init(_ query: Query<Model>, projection: BSONDocument? = nil) {
        self.query = query
        self.projection = projection
        self.settings = query.referenceSettings
    }

    /// The next stored document, or nil at the end.
    mutating func next() async throws -> BSONDocument? {
        if cursor == nil {
            var options = query.findOptions
            if let projection { options.projection = projection }
            cursor = try await query.collection().find(query.filterDocument, options: options).makeAsyncIterator()
        }
        return try await cursor?.next()
    }
}

extension AsyncSequence {
    /// Every element, in an array (what each query's `all()` returns).
    func collected() async throws -> [Element] {
        var elements: [Element] = []
        for try await element in self { elements.append(element) }
        return elements
    }
}
