import Foundation
import TendrilDriver

/// Told when a document is freed (how a weak cache drops its entry at once).
protocol DocumentDeinitObserver: AnyObject {
    func documentDidDeinit()
}

/// A MongoDB document mapped to a Swift class: subclass it and declare `@Field`s.
///
/// ```swift
/// final class Person: Document {
///     override class var collectionName: String { "people" }
///     @Field var name: String = ""
///     @Field var age: Int = 0
///     @Field var tags: [String] = []
/// }
///
/// let ada = Person()
/// ada.name = "Ada"
/// try await ada.save()                    // insert
/// ada.age = 36
/// try await ada.save()                    // sends only {$set: {age: 36}}
/// ```
///
/// A loaded document keeps the bytes it was fetched with and compares against them on save, so
/// only fields that changed are sent, and fields the class does not declare survive untouched.
/// > Note: Documents are mutable classes and are not `Sendable`: use one from one task at a
/// time. `MongoClient`, queries and BSON values may be shared freely. A document a reference
/// cache hands out may be read from several tasks, even while one task changes, saves or
/// reloads it: each read sees the old or the new value, never freed memory. Writes from several
/// tasks at once stay the caller's to serialise. See the Concurrency article.
///
/// > Note: Besides the instances you create, a class's `init()` runs once more, when Tendril
/// first needs the class, for a hidden instance it reads field declarations and key paths
/// (`\.$name` in a query) from. Keep `init()` to setting fields: anything else it does (count,
/// log, register) happens for that instance too.
open class Document: FieldContainer {
    /// The `_id`: nil until the document is inserted (or assigned before inserting).
    @exclusivity(unchecked) public final var id: ObjectID?

    /// The BSON size of the document as fetched, set once when it is created from stored bytes
    /// (never changed after, so caches sharing the document can read it from any thread).
    /// Declared first: it fills the padding after the field storage, costing no bytes.
    @exclusivity(unchecked) final var fetchedByteCount: UInt32 = 0
    /// Set when an insert failed with an unknown outcome (the document kept the `_id` it tried):
    /// the next insert may meet its own earlier attempt under that id. Fills padding too.
    @exclusivity(unchecked) final var hasUnconfirmedInsert = false

    /// Where this document's references resolve and under which policy, when a query or the
    /// document that resolved it set them.
    @exclusivity(unchecked) final var referenceSettings: ReferenceSettings?
    /// The reference cache once created, the weak caches to tell when this document is freed,
    /// and the indexes of stored reference lists: one optional object, since most documents
    /// need none of them.
    private final var referenceState: ReferenceState?

    private final class ReferenceState {
        var cache: ReferenceCache?
        var deinitObservers: [any DocumentDeinitObserver] = []
        /// By slot; each names the stored bytes it indexes.
        var storedIDLists: [Int: StoredIDList] = [:]
    }

    private final var createdReferenceCache: ReferenceCache? {
        get { referenceState?.cache }
        set {
            if referenceState == nil { referenceState = ReferenceState() }
            referenceState?.cache = newValue
        }
    }

    /// The cache of the documents this document's references resolved to, created on first use
    /// with the query's policy, else the class's ``referenceCachePolicy``.
    ///
    /// ```swift
    /// person.referenceCache.policy = .lru(capacity: 16)
    /// print(person.referenceCache.statistics.residentCount)
    /// ```
    /// > Note: Safe to call from several threads on one document (a document shared by a
    /// reference cache gets one cache all the same).
    public final var referenceCache: ReferenceCache {
        // Documents a cache hands out are shared between tasks, so creation happens under a lock.
        Self.referenceCacheCreation.lock()
        defer { Self.referenceCacheCreation.unlock() }
        if let createdReferenceCache { return createdReferenceCache }
        let cache = ReferenceCache(policy: referenceSettings?.policy ?? Self.referenceCachePolicy,
                                   fetchMode: referenceSettings?.fetchMode ?? Self.referenceFetchMode, settings: referenceSettings)
        createdReferenceCache = cache
        return cache
    }
    private static let referenceCacheCreation = NSLock()

    /// Lists a weak cache to tell when this document is freed. Guarded by
    /// `referenceCacheCreation`: two caches may list one shared document at once.
    final func observeDeinit(_ observer: any DocumentDeinitObserver) {
        Self.referenceCacheCreation.lock()
        if referenceState == nil { referenceState = ReferenceState() }
        referenceState?.deinitObservers.append(observer)
        Self.referenceCacheCreation.unlock()
    }

    /// The index of stored list `slot` built for `stored`: the one kept, else the one `build`
    /// makes (then kept). Documents a cache hands out are read from several threads, so the
    /// index is published under `referenceCacheCreation`; it is built outside the lock (two
    /// threads may both build one, and the first kept wins), and immutable once built.
    final func storedIDList(at slot: Int, of stored: BSONDocument, build: () -> StoredIDList?) -> StoredIDList? {
        Self.referenceCacheCreation.lock()
        let kept = referenceState?.storedIDLists[slot]
        Self.referenceCacheCreation.unlock()
        if let kept, kept.indexes(stored) { return kept }
        guard let built = build() else { return nil }
        Self.referenceCacheCreation.lock()
        defer { Self.referenceCacheCreation.unlock() }
        if let raced = referenceState?.storedIDLists[slot], raced.indexes(stored) { return raced }
        if referenceState == nil { referenceState = ReferenceState() }
        referenceState?.storedIDLists[slot] = built
        return built
    }

    /// Replaces the stored bytes (after an insert, a save or a delete), dropping the indexes of
    /// the old ones. The new bytes are matched to the fields in one C walk, so reads stay a
    /// decode at a known offset instead of a key lookup.
    final func replaceStored(_ document: BSONDocument?) {
        var found = ElementLocations.unknown
        if let document { found = withSchema { locations(in: document, schema: $0) } }
        fieldStorage.replaceStored(document, locations: found)
        dropStoredIDLists()
    }

    /// Drops the indexes of stored lists: their bytes were replaced, and an index keeps its
    /// bytes alive.
    final func dropStoredIDLists() {
        Self.referenceCacheCreation.lock()
        let dropped = referenceState?.storedIDLists
        if dropped?.isEmpty == false { referenceState?.storedIDLists = [:] }
        Self.referenceCacheCreation.unlock()
        _ = consume dropped   // released after unlocking
    }

    deinit {
        // Nothing else can reach a document being freed: no lock needed to read this.
        if let observers = referenceState?.deinitObservers {
            for observer in observers { observer.documentDidDeinit() }
        }
        referenceSettings?.peers?.memberDidDeinit()
    }

    /// The reference cache policy of this class's documents, unless a query sets another; by
    /// default ``CachePolicy/default`` (``CachePolicy/strong`` unless changed).
    ///
    /// ```swift
    /// override class var referenceCachePolicy: CachePolicy { .lru(capacity: 32) }
    /// ```
    open class var referenceCachePolicy: CachePolicy { .default }

    /// What this class's documents do when a reference access finds nothing in the cache,
    /// unless a query sets another; by default ``FetchMode/default`` (``FetchMode/peers`` unless
    /// changed).
    ///
    /// ```swift
    /// override class var referenceFetchMode: FetchMode { .raise }
    /// ```
    open class var referenceFetchMode: FetchMode { .default }

    /// Remembers `database` (given to a call) as where references resolve, unless a query
    /// already chose one.
    final func adoptDatabase(_ database: MongoDatabase?) {
        guard let database, referenceSettings?.database == nil else { return }
        referenceSettings = ReferenceSettings(database: database, policy: referenceSettings?.policy,
                                              fetchMode: referenceSettings?.fetchMode, peers: referenceSettings?.peers)
        Self.referenceCacheCreation.lock()
        let cache = createdReferenceCache
        Self.referenceCacheCreation.unlock()
        cache?.settings = referenceSettings
    }

    /// Empties the reference cache, if it was ever created.
    final func clearReferenceCache() {
        Self.referenceCacheCreation.lock()
        let cache = createdReferenceCache
        Self.referenceCacheCreation.unlock()
        cache?.clear()
    }

    /// Decodes a document from JSON (or any `Decoder`): a new document whose fields named in the
    /// input are pending changes, checked as loading and saving check them (see
    /// `Document+Codable.swift` and `docs/codable.md`).
    ///
    /// ```swift
    /// let ada = try JSONDecoder().decode(Person.self, from: body)
    /// try await ada.save()     // inserts (with the input's `id`, if it had one)
    /// ```
    /// - Throws: ``DocumentError`` (`.typeMismatch`, `.missingRequiredField`,
    ///   `.validationFailed`, `.invalidFieldKey`) naming the JSON path; what `decoder` throws
    ///   for input that is not JSON.
    public required convenience init(from decoder: any Decoder) throws {
        self.init()
        try decodeFields(from: decoder)
    }

    /// The collection's name; by default the class's name.
    open class var collectionName: String { String(describing: self) }

    /// The database of this class; by default ``DefaultDatabase/current``.
    open class var database: MongoDatabase? { DefaultDatabase.current }

    /// The indexes this class's collection should have, by stored keys; created by
    /// ``QueryableDocument/ensureIndexes(in:)``.
    ///
    /// ```swift
    /// override class var indexes: [IndexModel] {
    ///     [IndexModel(keys: ["mail": 1], unique: true),
    ///      IndexModel(keys: ["age": -1, "name": 1]),
    ///      IndexModel(keys: ["nickname": 1], sparse: true),
    ///      IndexModel(keys: ["lastSeen": 1], expireAfterSeconds: 86_400)]
    /// }
    /// ```
    open class var indexes: [IndexModel] { [] }

    /// True until the document is inserted or loaded.
    public final var isNew: Bool { readFields { $0.stored == nil } }

    /// The document as it would be inserted now: `_id` (if any) then every field.
    ///
    /// ```swift
    /// print(try person.bsonDocument)   // { "_id" : ..., "name" : "Ada", ... }
    /// ```
    /// - Throws: `BSONError` when a field cannot be encoded (`.nestingTooDeep`, naming its path).
    public final var bsonDocument: BSONDocument {
        get throws { try document(withID: id) }
    }

    /// `_id` first (when there is one), then every field.
    final func document(withID id: ObjectID?) throws -> BSONDocument {
        var document = BSONDocument()
        if let id { try document.append("_id", .objectID(id)) }
        for (key, value) in try encodedFields() { try document.append(key, value) }
        return document
    }

    func error(_ kind: DocumentError.Kind, field: String? = nil) -> DocumentError {
        DocumentError(kind, collection: Self.collectionName, documentID: id.map(BSONValue.objectID), field: field)
    }

    /// The collection this document's calls use: the call's database, else the one it was
    /// loaded from or saved to (`query.using(db)`, `insert(into: db)`), else the class's.
    final func collection(in database: MongoDatabase?) throws -> MongoCollection {
        try Self.collection(in: database ?? referenceSettings?.database)
    }

    /// The collection to use: the call's database, else the class's, else an error.
    static func collection(in database: MongoDatabase?) throws -> MongoCollection {
        guard let database = database ?? self.database else {
            throw DocumentError(.noDatabase, collection: collectionName, documentID: nil)
        }
        return database.collection(collectionName)
    }

    /// Creates a document from stored BSON, checking every declared field's type and presence.
    /// - Throws: ``DocumentError`` `.typeMismatch` or `.missingRequiredField`, naming the field.
    /// `settings` (a query's database and cache policy) pass on to its references.
    static func hydrate(_ stored: BSONDocument, loadedSlots: [Bool]? = nil, settings: ReferenceSettings? = nil) throws -> Self {
        try hydrate(.document(stored), loadedSlots: loadedSlots, settings: settings)
    }

    /// A document made from a stored document in one walk: bytes as the server sent them are
    /// validated in the same walk that matches them to fields (see ``load(_:loadedSlots:)``).
    /// `schema`, when the caller knows it (a query knows its model's), spares each new document
    /// the lookup.
    /// - Throws: ``DocumentError`` (`.invalidBSON` when received bytes are not valid BSON), as
    ///   ``load(_:loadedSlots:)``.
    static func hydrate(_ source: LoadSource, loadedSlots: [Bool]? = nil, settings: ReferenceSettings? = nil,
                        schema knownSchema: Schema? = nil) throws -> Self {
        let document = Self()
        if let knownSchema { document.adoptSchema(knownSchema) }
        try document.withSchema { schema in try document.load(source, loadedSlots: loadedSlots, schema: schema) }
        document.referenceSettings = settings
        settings?.peers?.add(document)
        switch source {   // the stored document's size (the received bytes are exactly one document)
        case .received(let bytes): document.fetchedByteCount = UInt32(clamping: bytes.count)
        case .document(let stored): document.fetchedByteCount = UInt32(clamping: stored.byteCount)
        }
        return document
    }

    /// Replaces the stored state with a stored document after checking it; reads then come
    /// from it. `loadedSlots` marks the fields a projection fetched (nil: all of them);
    /// `changes`, pending changes to keep, are published with the new state in one step.
    /// - Throws: ``DocumentError``; the document is then unchanged.
    final func load(_ source: LoadSource, loadedSlots: [Bool]? = nil, keeping changes: [Int: Any]? = nil) throws {
        try withSchema { schema in try load(source, loadedSlots: loadedSlots, schema: schema, keeping: changes) }
        dropStoredIDLists()
    }

    /// The one load path: checks the class's declarations, walks the bytes once, and takes
    /// `_id`, or throws what the walk found.
    private final func load(_ source: LoadSource, loadedSlots: [Bool]?, schema: Schema, keeping changes: [Int: Any]? = nil) throws {
        if let problem = schema.declarationProblem { throw error(.notAField, field: problem) }
        let (refused, outcome) = loadFields(source, loadedSlots: loadedSlots, schema: schema, keeping: changes)
        guard case .loaded(let idOffset) = outcome else { throw Self.loadError(outcome, refused: refused, schema: schema) }
        // Read through the kept bytes' address: going through `fieldStorage.stored` copied it.
        let loadedID = idOffset < 0 ? nil : readFields { fields in
            fields.storedBytes.flatMap { BSONBytes($0).objectID(atElementOffset: idOffset, keyLength: 3) }
        }
        // Written only when it changes: a reload of a shared document leaves it alone for its readers.
        if id != loadedID { id = loadedID }
    }

    /// What a failed load throws; out of line, so the hot path stays small.
    @inline(never)
    private static func loadError(_ outcome: LoadOutcome, refused: BSONDocument?, schema: Schema) -> DocumentError {
        DocumentError(loading: outcome, stored: refused, fields: schema.fields, collection: collectionName)
    }

    /// Checks what a save would refuse: invalid keys, required fields that are nil, and values
    /// that break their field's rules.
    final func validateForSave() throws {
        if let problem = schema.declarationProblem { throw error(.notAField, field: problem) }
        if let key = schema.invalidKeys.first { throw error(.invalidFieldKey, field: key) }
        if let key = schema.invalidEmbeddedKey { throw error(.invalidFieldKey, field: key) }
        for (slot, field) in schema.fields.enumerated() {
            // A field a projection did not load is not being saved.
            guard fieldStorage.loadedSlots?[slot] ?? true || fieldStorage.current[slot] != nil else { continue }
            let value = currentValue(slot, schema: schema)
            if field.isRequired && value.isNull { throw error(.missingRequiredField, field: field.key) }
            if let key = StoredKeys.firstInvalidKey(in: value) {
                throw error(.invalidFieldKey, field: StoredKeys.describe(key, in: field.key))
            }
            let typed: Any? = fieldStorage.current[slot] ?? field.valueType.decode(value)
            if let typed, let rule = field.declaration.violation(of: typed) {
                throw error(.validationFailed(rule: rule), field: field.key)
            }
        }
    }
}
