import TendrilDriver

/// A document loaded with some of its fields (``Query/only(_:)`` or ``Query/exclude(_:)``).
///
/// Reading a loaded field works as on the document; reading one the projection left out
/// throws, so a partial document never passes off a default as stored data. Saving sends only
/// the fields set through it, so what was not loaded is never overwritten.
/// ```swift
/// for try await person in Person.objects.only(\.$name, \.$age) {
///     print(try person.name, try person.age)
///     _ = try? person.email                     // throws DocumentError.notLoaded
///     if try person.age < 0 { person.set(\.age, to: 0); try await person.save() }
/// }
/// ```
@dynamicMemberLookup
public final class Partial<Model: Document> {
    let document: Model

    init(_ document: Model) {
        self.document = document
    }

    /// The `_id` (always loaded).
    public var id: ObjectID? { document.id }

    /// The stored keys of the fields that were loaded.
    public var loadedKeys: [String] {
        let schema = document.schema
        let loaded = document.fieldStorage.loadedSlots ?? Array(repeating: true, count: schema.fields.count)
        return zip(schema.fields, loaded).filter(\.1).map(\.0.key)
    }

    /// The value of a loaded field.
    /// - Throws: ``DocumentError`` `.notLoaded` for a field the projection left out, `.notAField`
    ///   for a key path that reads no stored field.
    public subscript<V>(dynamicMember keyPath: KeyPath<Model, V>) -> V {
        get throws {
            guard let slot = document.schema.slot(forProperty: keyPath) else {
                throw document.error(.notAField)
            }
            guard document.fieldStorage.loadedSlots?[slot] ?? true else {
                throw document.error(.notLoaded, field: document.schema.fields[slot].key)
            }
            return document[keyPath: keyPath]
        }
    }

    /// Sets a field (loaded or not); the next ``save(in:)`` sends it.
    public func set<V>(_ keyPath: ReferenceWritableKeyPath<Model, V>, to value: V) {
        document[keyPath: keyPath] = value
    }

    /// Whether ``save(in:)`` would send anything (see ``Document/hasChanges``).
    public var hasChanges: Bool { document.hasChanges }

    /// The stored keys of the fields a save would send (see ``Document/changedFields``): those
    /// set through ``set(_:to:)`` to another value than stored, loaded or not.
    public var changedFields: [String] { document.changedFields }

    /// Sends the fields set through ``set(_:to:)`` (and changes inside loaded ones), never
    /// touching what was not loaded.
    /// - Throws: as ``Document/save(in:)``.
    public func save(in database: MongoDatabase? = nil) async throws {
        try await document.save(in: database)
    }

    /// Fetches the fields that were not loaded and returns the whole document, keeping the
    /// changes made through ``set(_:to:)``.
    /// - Throws: as ``Document/reload(from:)``.
    public func complete(from database: MongoDatabase? = nil) async throws -> Model {
        let missing = (document.fieldStorage.loadedSlots ?? []).enumerated().filter { !$0.element }.map(\.offset)
        try await document.reloadSlots(missing, from: database)
        return document
    }
}

/// A query whose documents come back with only some fields: see ``Query/only(_:)``.
public struct PartialQuery<Model: Document>: Sendable {
    let query: Query<Model>
    let projection: BSONDocument
    let loadedSlots: [Bool]

    /// The projection document sent.
    public var projectionDocument: BSONDocument { projection }
}

extension Query {
    /// Loads only the named fields (and `_id`) of each document; name them as `\.$name` or
    /// `\.name` (key paths that name no stored field are ignored).
    ///
    /// ```swift
    /// let names = Person.objects.only(\.$name)
    /// ```
    public func only(_ fields: PartialKeyPath<Model>...) -> PartialQuery<Model> {
        let schema = Schema.of(Model.self)
        var loaded = [Bool](repeating: false, count: schema.fields.count)
        for keyPath in fields { if let slot = schema.slot(forProjected: keyPath) { loaded[slot] = true } }
        return partial(loaded, schema: schema, include: true)
    }

    /// Loads every field except the named ones.
    public func exclude(_ fields: PartialKeyPath<Model>...) -> PartialQuery<Model> {
        let schema = Schema.of(Model.self)
        var loaded = [Bool](repeating: true, count: schema.fields.count)
        for keyPath in fields { if let slot = schema.slot(forProjected: keyPath) { loaded[slot] = false } }
        return partial(loaded, schema: schema, include: false)
    }

    private func partial(_ loaded: [Bool], schema: Schema, include: Bool) -> PartialQuery<Model> {
        let keys = zip(schema.fields, loaded).filter { $0.1 == include }.map(\.0.key)
        // An empty exclusion would project nothing out: send no projection at all then.
        let projection = BSONDocument(elements: keys.map { ($0, .int32(include ? 1 : 0)) })
        return PartialQuery(query: self, projection: projection, loadedSlots: loaded)
    }
}

extension PartialQuery: AsyncSequence {
    public typealias Element = Partial<Model>

    /// Streams the partial documents.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var documents: HydratedDocuments<Model>

        /// The next partial document, on the caller's executor; throws as
        /// ``Query/AsyncIterator/next()``.
        public nonisolated(nonsending) mutating func next() async throws -> Partial<Model>? {
            if let ready = try documents.nextReady() { return Partial(ready) }
            return try await documents.next().map(Partial.init)
        }
    }

    /// An iterator that opens its own cursor.
    public func makeAsyncIterator() -> AsyncIterator {
        // An empty projection that still leaves fields out (every field excluded) asks for `_id`.
        let sent: BSONDocument? = projection.isEmpty ? (loadedSlots.contains(false) ? ["_id": 1] : nil) : projection
        return AsyncIterator(documents: HydratedDocuments(query, projection: sent, loadedSlots: loadedSlots))
    }

    /// Every match, in an array.
    public func all() async throws -> [Partial<Model>] {
        try await collected()
    }
}
