import TendrilDriver

/// The stored documents a query streams: the cursor is opened on the first `next()` (so
/// building a query sends nothing), with the query's options and an optional projection.
/// Shared by the iterators of ``Query``, ``PartialQuery`` and ``ValuesQuery``.
///
/// Not generic: it runs once per document, and a generic type's methods, unspecialised outside
/// this module, looked its metadata up at run time on every call.
struct StoredDocuments {
    /// Opens the query's cursor, with the query captured.
    private let open: @Sendable () async throws -> MongoCursor
    /// The query's database and cache policy, shared by every document it creates.
    let settings: ReferenceSettings?
    /// The model's collection, named by errors about a stored document.
    let collectionName: String
    private var cursor: MongoCursor.AsyncIterator?

    init<Model: Document>(_ query: Query<Model>, projection: BSONDocument? = nil) {
        self.settings = query.referenceSettings
        self.collectionName = Model.collectionName
        self.open = {
            var options = query.findOptions
            if let projection { options.projection = projection }
            return try await query.collection().find(query.filterDocument, options: options)
        }
    }

    /// Calls `body` with the bytes of the next stored document if it was fetched already, as
    /// the server sent them (not validated, valid only during the call); else nil.
    mutating func withNextBufferedBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result? {
        try cursor?.withNextBufferedBytes(body)
    }

    /// Calls `body` with the bytes of the next stored document as the server sent them (not
    /// validated, valid only during the call), fetching a batch first when none is left; nil at
    /// the end. Invalid BSON is `body`'s to report (it validates as it reads).
    nonisolated(nonsending) mutating func withNext<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) async throws -> Result? {
        guard try await fetchBatchIfNeeded() else { return nil }
        return try withNextBufferedBytes(body)
    }

    /// How many stored documents of the batch already fetched are left.
    var bufferedCount: Int { cursor?.bufferedCount ?? 0 }

    /// Opens the cursor and fetches a batch when none is left to read; false at the end.
    nonisolated(nonsending) mutating func fetchBatchIfNeeded() async throws -> Bool {
        if cursor == nil {
            cursor = try await open().makeAsyncIterator()
        }
        do {
            return try await cursor?.fetchBatchIfNeeded() ?? false
        } catch {
            throw DocumentError.reading(error, collection: collectionName)
        }
    }
}

/// The documents a query yields: hydrated one by one, or, with a prefetch plan, a batch at a
/// time with the batch's references resolved together. Shared by the iterators of ``Query`` and
/// ``PartialQuery``.
struct HydratedDocuments<Model: Document> {
    // The members read for every document come first and do not depend on `Model`, so
    // unspecialised code reaches them at fixed offsets, without looking up metadata.
    var stored: StoredDocuments
    let loadedSlots: [Bool]?
    /// Whether the query prefetches references (asking `plan.steps` meant generic metadata
    /// lookups on every document).
    let prefetches: Bool
    /// Whether documents are created a batch at a time: to prefetch, or under
    /// ``FetchMode/peers``, where a batch's documents must all exist when the first of them
    /// resolves a reference for all.
    let hydratesBatches: Bool
    let batchSize: Int
    /// `Model`'s schema, handed to each document it hydrates.
    let schema: Schema
    /// An error met while filling a batch, thrown once the documents before it are delivered.
    private var pendingError: (any Error)?
    /// Hydrated and prefetched documents not yet yielded, last first.
    private var ready: [Model] = []
    let plan: PrefetchPlan<Model>

    init(_ query: Query<Model>, projection: BSONDocument? = nil, loadedSlots: [Bool]? = nil) {
        self.stored = StoredDocuments(query, projection: projection)
        self.loadedSlots = loadedSlots
        self.plan = query.prefetchPlan
        self.prefetches = !query.prefetchPlan.steps.isEmpty
        self.hydratesBatches = prefetches || ReferenceSettings.resolvesAsPeers(Model.self, under: query.referenceSettings)
        self.batchSize = query.prefetchBatchSize
        self.schema = Schema.of(Model.self)
    }

    /// The next document when it is ready without waiting (fetched and, with a prefetch plan,
    /// resolved), else nil: then call ``next()``. Iterators try this first, so streaming a
    /// batch costs no `async` call per document.
    mutating func nextReady() throws -> Model? {
        if !hydratesBatches {
            return try hydrateBuffered(settings: stored.settings)
        }
        return ready.popLast()
    }

    nonisolated(nonsending) mutating func next() async throws -> Model? {
        if !hydratesBatches {
            return try await hydrateNext(settings: stored.settings)
        }
        if ready.isEmpty {
            if let pendingError {
                self.pendingError = nil
                throw pendingError
            }
            var batch: [Model] = []
            do {
                if prefetches {
                    // A new group for each batch: documents of different batches are never peers.
                    let settings = ReferenceSettings.forBatch(of: Model.self, inheriting: stored.settings)
                    while batch.count < batchSize, let document = try await hydrateNext(settings: settings) {
                        batch.append(document)
                    }
                } else if try await stored.fetchBatchIfNeeded() {
                    // The server's batch: the one just fetched, whole, without another round
                    // trip. Its size is known before any document is made, so a batch of one
                    // (a filter matching one document, a result's last batch) forms no group.
                    let settings = ReferenceSettings.forBatch(of: Model.self, inheriting: stored.settings,
                                                              alone: stored.bufferedCount == 1)
                    while let document = try hydrateBuffered(settings: settings) { batch.append(document) }
                }
            } catch {
                guard !batch.isEmpty else { throw error }
                pendingError = error
            }
            if prefetches { try await plan.run(on: batch) }
            ready = batch.reversed()
        }
        return ready.popLast()
    }

    /// The next stored document made into a `Model` in one walk over its bytes (the first of a
    /// batch as the rest), or nil at the end.
    private nonisolated(nonsending) mutating func hydrateNext(settings: ReferenceSettings?) async throws -> Model? {
        let loadedSlots = self.loadedSlots, schema = self.schema
        return try await stored.withNext { bytes in
            try Model.hydrate(.received(bytes), loadedSlots: loadedSlots, settings: settings, schema: schema)
        }
    }

    /// The next stored document of the batch already fetched, made into a `Model`; nil when
    /// the batch is used up.
    private mutating func hydrateBuffered(settings: ReferenceSettings?) throws -> Model? {
        let loadedSlots = self.loadedSlots, schema = self.schema
        return try stored.withNextBufferedBytes { bytes in
            try Model.hydrate(.received(bytes), loadedSlots: loadedSlots, settings: settings, schema: schema)
        }
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
