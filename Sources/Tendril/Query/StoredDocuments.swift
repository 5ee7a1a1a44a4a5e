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

/// The documents a query yields: hydrated one by one, or, with a prefetch plan, a batch at a
/// time with the batch's references resolved together. Shared by the iterators of ``Query`` and
/// ``PartialQuery``.
struct HydratedDocuments<Model: Document> {
    var stored: StoredDocuments<Model>
    let loadedSlots: [Bool]?
    let plan: PrefetchPlan<Model>
    let batchSize: Int
    /// Hydrated and prefetched documents not yet yielded, last first.
    private var ready: [Model] = []
    /// An error met while filling a batch, thrown once the documents before it are delivered.
    private var pendingError: (any Error)?

    init(_ stored: StoredDocuments<Model>, loadedSlots: [Bool]? = nil) {
        self.stored = stored
        self.loadedSlots = loadedSlots
        self.plan = stored.query.prefetchPlan
        self.batchSize = stored.query.prefetchBatchSize
    }

    mutating func next() async throws -> Model? {
        if plan.steps.isEmpty {
            guard let document = try await stored.next() else { return nil }
            return try Model.hydrate(document, loadedSlots: loadedSlots, settings: stored.settings)
        }
        if ready.isEmpty {
            if let pendingError {
                self.pendingError = nil
                throw pendingError
            }
            var batch: [Model] = []
            do {
                while batch.count < batchSize, let document = try await stored.next() {
                    batch.append(try Model.hydrate(document, loadedSlots: loadedSlots, settings: stored.settings))
                }
            } catch {
                guard !batch.isEmpty else { throw error }
                pendingError = error
            }
            try await plan.run(on: batch)
            ready = batch.reversed()
        }
        return ready.popLast()
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
