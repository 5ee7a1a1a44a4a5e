import TendrilDriver

extension ReferenceCache {
    /// The document `id` refers to.
    /// - Throws: ``DocumentError`` `.danglingReference` when it no longer exists.
    func resolveOne<Target: Document>(_ id: ObjectID, as type: Target.Type, storing: Bool, field: String) throws -> Target {
        guard let document = try resolve([id], as: type, storing: storing)[id] ?? nil else {
            throw Self.dangling(type, id: id, field: field)
        }
        return document
    }

    /// The documents `ids` refer to, in order and with duplicates, missing ones fetched together.
    /// - Throws: ``DocumentError`` `.danglingReference` for the first id that no longer exists.
    func resolveAll<Target: Document>(_ ids: [ObjectID], as type: Target.Type, storing: Bool, field: String) throws -> [Target] {
        let found = try resolve(ids, as: type, storing: storing)
        return try ids.map { id in
            guard let document = found[id] ?? nil else { throw Self.dangling(type, id: id, field: field) }
            return document
        }
    }

    static func dangling(_ type: Document.Type, id: ObjectID, field: String) -> DocumentError {
        DocumentError(.danglingReference, collection: type.collectionName, documentID: .objectID(id), field: field)
    }
}
