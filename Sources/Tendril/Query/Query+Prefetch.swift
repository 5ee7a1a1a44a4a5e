import TendrilDriver

/// Reference fields to resolve for whole batches of documents at once: built by
/// ``Query/prefetch(_:only:then:)``, and nested through its `then:` closures.
///
/// ```swift
/// Meeting.objects
///     .prefetch(\.$division)
///     .prefetch(\.$attendees, only: [\.$name])           // partial attendees: only their names
///     .prefetch(\.$room) { $0.prefetch(\.$event) }      // meeting → room → event
/// ```
public struct PrefetchPlan<Model: Document>: Sendable {
    struct Step: Sendable {
        /// The stored key of the reference field the step resolves.
        let key: String
        /// Resolves the step's field for `parents` (all of `Model`), then its nested steps.
        let run: @Sendable ([Document]) throws -> Void
    }
    var steps: [Step] = []
    /// Key paths that named no reference field; the query throws for the first.
    var problems: [String] = []

    /// An empty plan, for nesting.
    public init() {}

    /// Also resolves the reference field `keyPath` (a single reference, a list or a dictionary)
    /// of every document of a batch.
    public func prefetch<Handle: ReferenceHandleProtocol>(
        _ keyPath: KeyPath<Model, Handle>, only fields: [PartialKeyPath<Handle.Target>] = [],
        then nested: (PrefetchPlan<Handle.Target>) -> PrefetchPlan<Handle.Target> = { $0 }
    ) -> PrefetchPlan {
        typealias T = Handle.Target
        let nested = nested(PrefetchPlan<T>())
        var plan = self
        plan.problems += nested.problems
        guard let slot = Schema.of(Model.self).slot(forProjected: keyPath) else {
            plan.problems.append(Model.describe(keyPath))
            return plan
        }
        // A projected prefetch also loads the fields its nested prefetches read.
        let (projection, unknown) = ReferenceProjection.make(only: fields, alsoKeys: nested.steps.map(\.key), of: T.self)
        plan.problems += unknown.map { T.describe($0) }
        let nestedSteps = nested.steps
        plan.steps.append(Step(key: Schema.of(Model.self).keys[slot]) { parents in
            var wanted: [ObjectID] = []
            var seen = Set<ObjectID>()
            let idsByParent = parents.map { parent in
                let parentIDs = Handle._referencedIDs(in: parent, slot: slot)
                for id in parentIDs where seen.insert(id).inserted { wanted.append(id) }
                return parentIDs
            }
            guard !wanted.isEmpty else { return }
            let fetched = try ReferenceFetch.documents(wanted, as: T.self, projection: projection,
                                                       settings: parents.first?.referenceSettings) {}
            for (parent, parentIDs) in zip(parents, idsByParent) where !parentIDs.isEmpty {
                var found: [ObjectID: T] = [:]
                var missing: [ObjectID] = []
                for id in parentIDs {
                    if let document = fetched[id] { found[id] = document } else { missing.append(id) }
                }
                parent.referenceCache.seed(found, missing: missing, as: T.self)
            }
            let targets = wanted.compactMap { fetched[$0] }
            for step in nestedSteps { try step.run(targets) }
        })
        return plan
    }

    /// Runs every step over `parents`.
    func run(_ parents: [Document]) throws {
        for step in steps { try step.run(parents) }
    }

    /// Runs every step over `parents` on Tendril's threads (the fetches block). Called on the
    /// caller's executor, so parents just loaded there need not be sent to reach it.
    nonisolated(nonsending) func run(on parents: [Model]) async throws {
        guard !steps.isEmpty, !parents.isEmpty else { return }
        let transfer = UncheckedTransfer(parents as [Document])
        try await BlockingExecutor.shared.run { [self] in try run(transfer.value) }
    }
}

extension ReferenceProjection {
    /// The projection loading `fields` of `type`, the fields stored under `alsoKeys`, and `_id`;
    /// nil when `fields` is empty (whole documents). Also returns the key paths that named no
    /// field of `type`.
    static func make(only fields: [AnyKeyPath], alsoKeys: [String], of type: Document.Type) -> (ReferenceProjection?, [AnyKeyPath]) {
        guard !fields.isEmpty else { return (nil, []) }
        let schema = Schema.of(type)
        var loaded = [Bool](repeating: false, count: schema.fields.count)
        var unknown: [AnyKeyPath] = []
        for keyPath in fields {
            if let slot = schema.slot(forProjected: keyPath) { loaded[slot] = true } else { unknown.append(keyPath) }
        }
        for key in alsoKeys { if let slot = schema.keys.firstIndex(of: key) { loaded[slot] = true } }
        let keys = zip(schema.keys, loaded).filter(\.1).map(\.0)
        let document: BSONDocument = keys.isEmpty ? ["_id": 1] : BSONDocument(elements: keys.map { ($0, .int32(1)) })
        return (ReferenceProjection(document: document, loadedSlots: loaded), unknown)
    }
}

extension Query {
    /// Resolves the reference field `keyPath` (a single reference, a list or a dictionary) for
    /// each batch of documents the query yields, with one `$in` query per batch (never one per
    /// document); `only:` fetches just those fields of the referenced documents (they are then
    /// partial), `then:` prefetches their own references in turn.
    ///
    /// ```swift
    /// for try await meeting in Meeting.objects.prefetch(\.$room) { $0.prefetch(\.$event) } {
    ///     print(try await meeting.$room.value?.$event.value?.name)   // no query: prefetched
    /// }
    /// ```
    /// A batch is ``batchSize(_:)`` documents (100 unless set). Prefetched documents go into each
    /// document's reference cache, as its policy keeps them: a `.none` cache keeps none, and a
    /// `.weak` one only those something else holds, so prefetching suits the other policies.
    public func prefetch<Handle: ReferenceHandleProtocol>(
        _ keyPath: KeyPath<Model, Handle>, only fields: [PartialKeyPath<Handle.Target>] = [],
        then nested: (PrefetchPlan<Handle.Target>) -> PrefetchPlan<Handle.Target> = { $0 }
    ) -> Query {
        var query = self
        query.prefetchPlan = prefetchPlan.prefetch(keyPath, only: fields, then: nested)
        return query
    }

    /// How many documents are hydrated before their references are prefetched together.
    var prefetchBatchSize: Int { Swift.max(batch ?? 100, 1) }
}
