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

/// Reads the projected fields of one stored document, by position.
struct FieldReader {
    let stored: BSONDocument
    let fields: ProjectedFields

    func value<T: FieldValue>(_ position: Int, as type: T.Type = T.self) throws -> T {
        let value = stored[fields.keys[position]] ?? fields.defaults[position]
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

    init(_ fields: [FieldInfo], collection: String) {
        self.keys = fields.map(\.key)
        self.defaults = fields.map(\.encodedDefault)
        self.collection = collection
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

        /// The next value or tuple, on the caller's executor; throws ``MongoError`` or
        /// ``DocumentError``.
        public nonisolated(nonsending) mutating func next() async throws -> Element? {
            var stored = try documents.nextBuffered()
            if stored == nil { stored = try await documents.next() }
            guard let stored else { return nil }
            return try values.makeElement(FieldReader(stored: stored, fields: fields))
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
