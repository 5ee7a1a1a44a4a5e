import TendrilDriver

/// The query behind every dereference: referenced documents by id, `$in` chunk by chunk.
enum ReferenceFetch {
    /// Fetches and creates the documents of `Target` with `ids` (distinct), one query per
    /// ``ReferenceCache/maximumIDsPerQuery`` ids, each with a batch size covering its chunk.
    /// Ids without a document are absent from the result. `didSendQuery` runs before each query.
    /// - Throws: `MongoError`; ``DocumentError`` when a fetched document does not fit `Target`.
    static func documents<Target: Document>(_ ids: [ObjectID], as type: Target.Type, projection: ReferenceProjection?,
                                            settings: ReferenceSettings?, didSendQuery: () -> Void) throws -> [ObjectID: Target] {
        var fetched: [ObjectID: Target] = [:]
        let collection = try Target.collection(in: settings?.database)
        // The documents fetched together are peers of one another, never of the parent's peers
        // (and one document alone is nobody's peer).
        let settings = ReferenceSettings.forBatch(of: Target.self, inheriting: settings, alone: ids.count == 1)
        for chunk in ids.chunked() {
            didSendQuery()
            let filter: BSONDocument = ["_id": ["$in": .array(chunk.map(BSONValue.objectID))]]
            let cursor = try collection.find(filter, options: FindOptions(projection: projection?.document, batchSize: chunk.count))
            while let document = try nextDocument(of: cursor, as: type, projection: projection, settings: settings) {
                if let id = document.id { fetched[id] = document }
            }
        }
        return fetched
    }

    /// The cursor's next document, loaded in one walk over the bytes libmongoc lends; invalid
    /// BSON from the server is a ``DocumentError`` naming it.
    private static func nextDocument<Target: Document>(of cursor: MongoCursor, as type: Target.Type, projection: ReferenceProjection?,
                                                       settings: ReferenceSettings?) throws -> Target? {
        do {
            return try cursor.withNext { try Target.hydrate(.received($0), loadedSlots: projection?.loadedSlots, settings: settings) }
        } catch {
            throw DocumentError.reading(error, collection: Target.collectionName)
        }
    }
}

/// Fields to fetch of referenced documents (a projected dereference).
struct ReferenceProjection: Sendable {
    /// The projection sent.
    let document: BSONDocument
    /// Which of the target class's slots it loads.
    let loadedSlots: [Bool]
}
