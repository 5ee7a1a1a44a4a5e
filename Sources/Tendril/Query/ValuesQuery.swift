import TendrilDriver

/// A query that returns plain values of some fields (one value, or a tuple of up to four)
/// without creating documents: the cheapest way to read a few fields of many documents.
/// See ``Query/values(_:_:)`` and ``Query/scalar(_:)``.
///
/// ```swift
/// for try await (name, age) in Person.objects.filter(\.$age > 30).values(\.$name, \.$age) {
///     print(name, age)
/// }
/// let emails = try await Person.objects.scalar(\.$email).all()   // [String?]
/// ```
/// A field absent from a stored document gives its declared default (nil for optionals); a
/// stored value of the wrong type throws ``DocumentError`` naming the document and field.
public struct ValuesQuery<Model: Document, Element>: Sendable {
    let query: Query<Model>
    let fields: [FieldInfo]
    let makeElement: @Sendable (FieldReader) throws -> Element

    var projection: BSONDocument {
        BSONDocument(elements: fields.map { ($0.key, .int32(1)) })
    }
}

/// Reads the projected fields of one stored document, by position, at the offsets the load
/// walk found (no key lookup).
struct FieldReader {
    let stored: BSONDocument
    let locations: ElementLocations
    let fields: ProjectedFields

    /// Loads the bytes of a stored document in one walk: validated and matched to the fields
    /// read, then copied.
    /// - Throws: ``DocumentError`` `.invalidBSON` when the bytes are not valid BSON.
    init(_ bytes: UnsafeBufferPointer<UInt8>, fields: ProjectedFields) throws {
        var locations = ElementLocations.unknown
        var needsCheck: [Int] = []   // every value is decoded by `value(_:as:)` anyway
        let (walked, outcome) = FieldContainer.walk(.received(bytes), table: fields.table, locations: &locations, needsCheck: &needsCheck)
        guard case .loaded = outcome, let stored = walked else {
            throw DocumentError(loading: outcome, stored: walked, fields: fields.distinct, collection: fields.collection)
        }
        self.stored = stored
        self.locations = locations
        self.fields = fields
    }

    func value<T: FieldValue>(_ position: Int, as type: T.Type = T.self) throws -> T {
        let slot = fields.slots[position]
        let offset = locations.offset(of: slot) ?? -1
        let value = offset < 0 ? fields.defaults[position] : stored.value(atElementOffset: offset, keyLength: fields.keyLengths[slot])
        guard let decoded = T.decode(value) else {
            throw DocumentError(.typeMismatch(expected: T.expectedBSONType, found: value.typeName),
                                collection: fields.collection, documentID: stored["_id"], field: fields.keys[position])
        }
        return decoded
    }
}

/// What reading a values query's fields needs, worked out once per iteration instead of once
/// per document (a class's default collection name is built by reflection).
final class ProjectedFields: Sendable {
    let keys: [String]
    let defaults: [BSONValue]
    let collection: String
    /// The distinct fields read, in the walk's slot order (a field read twice is matched once).
    let distinct: [FieldInfo]
    /// Each position's slot in `distinct` and `table`.
    let slots: [Int]
    let keyLengths: [Int]
    /// The fields read, for the load walk: every type is decoded to be checked (by the reader,
    /// which names the type asked for), so the walk only validates and finds them.
    let table: BSONFieldTable

    init(_ fields: [FieldInfo], collection: String) {
        self.keys = fields.map(\.key)
        self.defaults = fields.map(\.encodedDefault)
        self.collection = collection
        var distinct: [FieldInfo] = []
        var slots: [Int] = []
        for field in fields {
            if let slot = distinct.firstIndex(where: { $0.key == field.key }) {
                slots.append(slot)
            } else {
                slots.append(distinct.count)
                distinct.append(field)
            }
        }
        self.distinct = distinct
        self.slots = slots
        self.keyLengths = distinct.map { $0.key.utf8.count }
        // `_id` is an ordinary key here: a values query never checked it.
        self.table = BSONFieldTable(keys: distinct.map(\.key), checksID: false, accepts: { _, _ in nil }, acceptsElement: { _ in nil })
    }
}

extension Query {
    private func valuesQuery<Element>(_ keyPaths: [AnyKeyPath], _ make: @escaping @Sendable (FieldReader) throws -> Element) -> ValuesQuery<Model, Element> {
        let schema = Schema.of(Model.self)
        var query = self
        var fields: [FieldInfo] = []
        for keyPath in keyPaths {
            if let field = schema.field(forProjected: keyPath) {
                fields.append(field)
            } else {
                query.problems.append(Model.describe(keyPath))
            }
        }
        return ValuesQuery(query: query, fields: fields, makeElement: make)
    }

    /// One field of each match, creating no documents.
    public func scalar<A: FieldValue>(_ a: KeyPath<Model, Field<A>>) -> ValuesQuery<Model, A> {
        valuesQuery([a]) { try $0.value(0) }
    }

    /// Two fields of each match, as a tuple, creating no documents.
    public func values<A: FieldValue, B: FieldValue>(_ a: KeyPath<Model, Field<A>>, _ b: KeyPath<Model, Field<B>>) -> ValuesQuery<Model, (A, B)> {
        valuesQuery([a, b]) { (try $0.value(0), try $0.value(1)) }
    }

    /// Three fields of each match, as a tuple, creating no documents.
    public func values<A: FieldValue, B: FieldValue, C: FieldValue>(
        _ a: KeyPath<Model, Field<A>>, _ b: KeyPath<Model, Field<B>>, _ c: KeyPath<Model, Field<C>>
    ) -> ValuesQuery<Model, (A, B, C)> {
        valuesQuery([a, b, c]) { (try $0.value(0), try $0.value(1), try $0.value(2)) }
    }

    /// Four fields of each match, as a tuple, creating no documents.
    public func values<A: FieldValue, B: FieldValue, C: FieldValue, D: FieldValue>(
        _ a: KeyPath<Model, Field<A>>, _ b: KeyPath<Model, Field<B>>, _ c: KeyPath<Model, Field<C>>, _ d: KeyPath<Model, Field<D>>
    ) -> ValuesQuery<Model, (A, B, C, D)> {
        valuesQuery([a, b, c, d]) { (try $0.value(0), try $0.value(1), try $0.value(2), try $0.value(3)) }
    }
}

extension ValuesQuery: AsyncSequence {
    /// Streams the values.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let values: ValuesQuery
        let fields: ProjectedFields
        var documents: StoredDocuments

        /// The next value or tuple, on the caller's executor; throws `MongoError` or
        /// ``DocumentError``.
        public nonisolated(nonsending) mutating func next() async throws -> Element? {
            let fields = self.fields
            // One walk per document, the first of a batch as the rest.
            if let reader = try documents.withNextBufferedBytes({ try FieldReader($0, fields: fields) }) {
                return try values.makeElement(reader)
            }
            guard let reader = try await documents.withNext({ try FieldReader($0, fields: fields) }) else { return nil }
            return try values.makeElement(reader)
        }
    }

    /// An iterator that opens its own cursor.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(values: self, fields: ProjectedFields(fields, collection: Model.collectionName),
                      documents: StoredDocuments(query, projection: projection))
    }

    /// Every value or tuple, in an array.
    public func all() async throws -> [Element] {
        try await collected()
    }
}
