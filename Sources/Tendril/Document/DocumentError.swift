import TendrilDriver

/// An error about a document's content or state, naming the collection, the document's id and
/// the field concerned.
///
/// ```swift
/// do {
///     for try await person in Person.objects { ... }
/// } catch let error as DocumentError {
///     print(error)   // Person 65f1...: field "age" holds string, expected long
/// }
/// ```
public struct DocumentError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Kind: Sendable, Equatable {
        /// A stored value has another BSON type than the field declares.
        case typeMismatch(expected: String, found: String)
        /// A `.required` field is absent from a stored document, or nil when saving.
        case missingRequiredField
        /// A field's stored key cannot be used (empty, `_id`, or containing `.`, `$` or NUL).
        case invalidFieldKey
        /// The operation needs a document that was inserted (or loaded) first.
        case notInserted
        /// The document no longer exists on the server.
        case notFound
        /// No database was given: set ``DefaultDatabase``, override `database`, or pass one.
        case noDatabase
        /// The field was left out by the query's projection (`only`/`exclude`).
        case notLoaded
        /// The key path names no stored field (a computed property, say).
        case notAField
        /// A value breaks its field's validation rule (named).
        case validationFailed(rule: String)
        /// A unique index already holds this value (`field` is the index's first key when the
        /// server says; nx-27017 does not).
        case duplicateKey
        /// A reference names a document that no longer exists: `collection` and `documentID`
        /// are the missing document's, `field` the referencing field.
        case danglingReference
        /// An index outside a reference list.
        case indexOutOfRange(index: Int, count: Int)
        /// A delete rule refused the delete: documents of `collection` still reference it
        /// through `field`.
        case deleteDenied(referencedBy: String)
        /// Someone else saved the document since it was loaded: its `.version` field (`field`)
        /// no longer holds `expected`. Reload, reapply the change and save again.
        case versionConflict(expected: Int)
        /// A stored document is not BSON that Tendril accepts: corrupt bytes, invalid UTF-8, or
        /// nesting deeper than MongoDB's 100 levels (another client may store such a document).
        /// `field` is the dotted path of the fault when known, `documentID` the document's `_id`
        /// when its top level reads up to it; nothing of the document is loaded.
        case invalidBSON(BSONError)
        /// Under ``FetchMode/raise``, a reference access the cache could not serve was refused
        /// and nothing was sent: `collection` and `documentID` are the referenced document's,
        /// `field` the referencing field's key, `property` the reference property of
        /// `referencingClass`, which `prefetch(\.$property)` on its query would serve.
        case lazyLoadRefused(referencingClass: String, property: String)
    }

    /// What is wrong.
    public let kind: Kind
    /// The collection of the document.
    public let collection: String
    /// The document's `_id`, when it has one.
    public let documentID: BSONValue?
    /// The stored key of the field concerned, if any.
    public let field: String?
    /// The server's error behind this one (for `.duplicateKey`).
    public let serverError: MongoError?

    /// Creates an error.
    public init(_ kind: Kind, collection: String, documentID: BSONValue?, field: String? = nil, serverError: MongoError? = nil) {
        self.kind = kind
        self.collection = collection
        self.documentID = documentID
        self.field = field
        self.serverError = serverError
    }

    /// A sentence naming the collection, id, field and, for type errors, both types.
    public var description: String {
        let id = documentID.map { " \($0)" } ?? ""
        let subject = "\(collection)\(id)"
        let field = self.field.map { "field \"\($0)\"" } ?? "document"
        switch kind {
        case .typeMismatch(let expected, let found):
            return "\(subject): \(field) holds \(found), expected \(expected)"
        case .missingRequiredField:
            return "\(subject): required \(field) is missing"
        case .invalidFieldKey:
            return "\(subject): \(field) cannot be stored under that key (empty, _id, or containing '.', '$' or NUL)"
        case .notInserted:
            return "\(subject): the document has not been inserted"
        case .notFound:
            return "\(subject): the document no longer exists"
        case .noDatabase:
            return "\(subject): no database; call DefaultDatabase.use(_:), override `database`, or pass one"
        case .notLoaded:
            return "\(subject): \(field) was not loaded (left out by the projection)"
        case .notAField:
            return "\(subject): the key path names no stored field"
        case .validationFailed(let rule):
            return "\(subject): \(field) breaks its rule: \(rule)"
        case .duplicateKey:
            return "\(subject): \(field) duplicates a value a unique index already holds"
        case .danglingReference:
            let through = self.field.map { " by field \"\($0)\"" } ?? ""
            return "\(subject): the document referenced\(through) no longer exists"
        case .indexOutOfRange(let index, let count):
            return "\(subject): index \(index) is outside \(field), which holds \(count) references"
        case .deleteDenied(let referencingCollection):
            return "\(subject): cannot be deleted while \(referencingCollection) documents reference it through \(field)"
        case .invalidBSON(let error):
            return "\(subject): \(field) cannot be loaded: \(error.message)"
        case .versionConflict(let expected):
            return "\(subject): saved by someone else since it was loaded (\(field) is no longer \(expected)); reload and save again"
        case .lazyLoadRefused(let referencingClass, let property):
            let through = self.field.map { " (field \"\($0)\")" } ?? ""
            return "\(subject): not fetched for \(referencingClass).\(property)\(through), fetch mode raise refuses lazy loads; "
                + "declare .prefetch(\\.$\(property)) on the query loading \(referencingClass), or resolve with .fetching(.one)"
        }
    }
}

extension DocumentError {
    /// `error`, met while reading stored documents of `collection`: invalid BSON becomes
    /// `Kind.invalidBSON(_:)` naming the document's id and the field; anything else is
    /// returned as it is.
    static func reading(_ error: any Error, collection: String) -> any Error {
        guard let bsonError = error as? BSONError else { return error }
        return DocumentError(.invalidBSON(bsonError), collection: collection, documentID: bsonError.documentID, field: bsonError.key)
    }
}

extension DocumentError {
    /// The error a failed load reports: the one place a ``LoadOutcome`` becomes a
    /// `DocumentError`. `stored` is the document the walk read (nil when received bytes were
    /// invalid), for the value found and the id; `fields` are the walk's table's, by slot.
    init(loading outcome: LoadOutcome, stored: BSONDocument?, fields: [FieldInfo], collection: String) {
        let documentID = stored?["_id"]
        switch outcome {
        case .idNotObjectID(let offset):
            let found = stored?.value(atElementOffset: offset, keyLength: 3) ?? .null
            self.init(.typeMismatch(expected: "objectId", found: found.typeName), collection: collection, documentID: found, field: "_id")
        case .wrongType(let slot, let offset):
            let field = fields[slot]
            let found = stored?.value(atElementOffset: offset, keyLength: field.key.utf8.count) ?? .null
            self.init(.typeMismatch(expected: field.valueType.expectedBSONType, found: found.typeName),
                      collection: collection, documentID: documentID, field: field.key)
        case .missingRequired(let slot):
            self.init(.missingRequiredField, collection: collection, documentID: documentID, field: fields[slot].key)
        case .malformed(let offset):
            let problem = BSONError(.malformedBytes, "the stored document is not well-formed BSON at byte \(offset)")
            self.init(.invalidBSON(problem), collection: collection, documentID: documentID)
        case .invalid(let problem):
            // As any invalid BSON read from the server (see `reading(_:collection:)`).
            self.init(.invalidBSON(problem), collection: collection, documentID: problem.documentID, field: problem.key)
        case .loaded:
            // Not a failure: callers take `_id` instead. Kept total so no outcome can trap.
            let problem = BSONError(.malformedBytes, "a loaded document was reported as a failure")
            self.init(.invalidBSON(problem), collection: collection, documentID: documentID)
        }
    }
}
