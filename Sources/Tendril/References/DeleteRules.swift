import TendrilDriver

/// The delete rules Tendril knows of, by referenced class: what a delete through Tendril does to
/// the documents referencing the deleted ones (see ``DeleteRule``).
///
/// ```swift
/// // At start-up, so rules apply before the referencing classes are first used:
/// DeleteRules.register(Meeting.self, Team.self)
/// ```
public enum DeleteRules {
    /// One reference field with a rule.
    struct Rule: @unchecked Sendable {
        let referencing: Document.Type
        let key: String
        let shape: ReferenceShape
        let rule: DeleteRule
    }

    private static let rulesByTarget = Locked<[ObjectIdentifier: [Rule]]>([:])
    private static let recorded = Locked<Set<ObjectIdentifier>>([])

    /// Makes the rules declared by `types`' reference fields known, so deleting their targets
    /// applies them. Classes are also registered on first use; registering twice is harmless.
    public static func register(_ types: Document.Type...) {
        for type in types { _ = Schema.of(type) }
    }

    /// Records the rules of a class's schema (called once per class when its schema is built).
    static func record(_ schema: Schema) {
        guard let type = schema.type as? Document.Type,
              recorded.withLock({ $0.insert(ObjectIdentifier(type)).inserted }) else { return }
        for field in schema.fields {
            guard let reference = field.reference, reference.deleteRule != .nothing else { continue }
            let rule = Rule(referencing: type, key: field.key, shape: reference.shape, rule: reference.deleteRule)
            rulesByTarget.withLock { $0[ObjectIdentifier(reference.target), default: []].append(rule) }
        }
    }

    static func rules(for target: Document.Type) -> [Rule] {
        rulesByTarget.withLock { $0[ObjectIdentifier(target)] ?? [] }
    }
}

/// Everything one delete removes once cascades are followed, checked against `deny` rules
/// before anything changes, then carried out around the caller's own delete.
struct DeletionPlan {
    /// Documents to delete, by class, in the order cascades reached them; the first entry is
    /// the caller's (which the caller deletes itself).
    private(set) var targets: [(type: Document.Type, ids: [ObjectID])] = []
    private var planned: Set<ReferenceKey> = []
    private let database: MongoDatabase?

    /// Plans deleting `ids` of `type` in `database` (nil: each class's own), following cascades.
    /// - Throws: ``DocumentError`` `.deleteDenied` when a `deny` rule refuses any of them;
    ///   `MongoError`.
    init(deleting ids: [ObjectID], of type: Document.Type, in database: MongoDatabase?) async throws {
        self.database = database
        try await add(ids, of: type)
        try await checkDenials()
    }

    private mutating func add(_ ids: [ObjectID], of type: Document.Type) async throws {
        let new = ids.filter { planned.insert(ReferenceKey(type, id: $0)).inserted }
        guard !new.isEmpty else { return }
        targets.append((type, new))
        for rule in DeleteRules.rules(for: type) where rule.rule == .cascade {
            try await add(try await referencingIDs(rule, new), of: rule.referencing)
        }
    }

    private func collection(of type: Document.Type) throws -> MongoCollection {
        try type.collection(in: database)
    }

    /// The ids of `rule.referencing` documents whose field refers to one of `ids`.
    private func referencingIDs(_ rule: DeleteRules.Rule, _ ids: [ObjectID]) async throws -> [ObjectID] {
        try await matching(rule, ids).compactMap { $0["_id"]?.objectIDValue }
    }

    /// The documents (`_id` and the field) referring to `ids`, queried in chunks of
    /// ``ReferenceCache/maximumIDsPerQuery`` ids.
    private func matching(_ rule: DeleteRules.Rule, _ ids: [ObjectID]) async throws -> [BSONDocument] {
        let collection = try collection(of: rule.referencing)
        let projection = BSONDocument(elements: [("_id", 1), (rule.key, 1)])
        switch rule.shape {
        case .single, .list:
            var found: [BSONDocument] = []
            for chunk in ids.chunked() {
                let cursor = try await collection.find([rule.key: ["$in": .array(chunk.map(BSONValue.objectID))]],
                                                       options: FindOptions(projection: projection))
                found += try await cursor.collected()
            }
            return found
        case .dictionary:
            // No portable query matches a value under any key: read the dictionaries and check.
            let wanted = Set(ids)
            let cursor = try await collection.find([rule.key: ["$exists": true]], options: FindOptions(projection: projection))
            return try await cursor.collected().filter { !Self.referencedIDs(in: $0, rule).filter(wanted.contains).isEmpty }
        }
    }

    /// The ids a matched document's field holds, whatever the field's shape.
    private static func referencedIDs(in document: BSONDocument, _ rule: DeleteRules.Rule) -> [ObjectID] {
        switch document[rule.key] {
        case .objectID(let id)?: [id]
        case .array(let values)?: values.compactMap(\.objectIDValue)
        case .document(let entries)?: entries.compactMap { $0.value.objectIDValue }
        default: []
        }
    }

    /// Refuses the whole delete if a `deny` rule finds a referencing document that is not
    /// itself being deleted.
    private func checkDenials() async throws {
        for (type, ids) in targets {
            for rule in DeleteRules.rules(for: type) where rule.rule == .deny {
                let wanted = Set(ids)
                for document in try await matching(rule, ids) {
                    // A referencing document that is itself being deleted does not deny.
                    if let id = document["_id"]?.objectIDValue, planned.contains(ReferenceKey(rule.referencing, id: id)) { continue }
                    let referenced = Self.referencedIDs(in: document, rule).first(where: wanted.contains)
                    throw DocumentError(.deleteDenied(referencedBy: rule.referencing.collectionName), collection: type.collectionName,
                                        documentID: referenced.map(BSONValue.objectID), field: rule.key)
                }
            }
        }
    }

    /// After the caller's delete: deletes what cascades reached, then nullifies and pulls the
    /// references left pointing at anything deleted.
    func applyAfterDelete() async throws {
        for (type, ids) in targets.dropFirst() {
            for chunk in ids.chunked() {
                try await collection(of: type).deleteMany(["_id": ["$in": .array(chunk.map(BSONValue.objectID))]])
            }
        }
        for (type, ids) in targets {
            for rule in DeleteRules.rules(for: type) where rule.rule == .nullify || rule.rule == .pull {
                try await detach(rule, from: ids)
            }
        }
    }

    /// Removes references to `ids` from `rule.referencing`'s field: unset a single reference,
    /// pull from a list, unset the dictionary's entries.
    private func detach(_ rule: DeleteRules.Rule, from ids: [ObjectID]) async throws {
        let collection = try collection(of: rule.referencing)
        switch rule.shape {
        case .single:
            for chunk in ids.chunked() {
                let idValues = BSONValue.array(chunk.map(BSONValue.objectID))
                try await collection.updateMany([rule.key: ["$in": idValues]], ["$unset": .document(BSONDocument(elements: [(rule.key, "")]))])
            }
        case .list:
            for chunk in ids.chunked() {
                let idValues = BSONValue.array(chunk.map(BSONValue.objectID))
                try await collection.updateMany([rule.key: ["$in": idValues]],
                                                ["$pullAll": .document(BSONDocument(elements: [(rule.key, idValues)]))])
            }
        case .dictionary:
            let wanted = Set(ids)
            for document in try await matching(rule, ids) {
                guard let id = document["_id"], let entries = document[rule.key]?.documentValue else { continue }
                let keys = entries.filter { _, value in value.objectIDValue.map(wanted.contains) ?? false }.map(\.key)
                let unset = BSONDocument(elements: keys.map { ("\(rule.key).\($0)", "") })
                try await collection.updateOne(["_id": id], ["$unset": .document(unset)])
            }
        }
    }
}

extension Array where Element == ObjectID {
    /// The ids in runs of at most ``ReferenceCache/maximumIDsPerQuery``, one per `$in` query.
    func chunked() -> [ArraySlice<ObjectID>] {
        let limit = ReferenceCache.maximumIDsPerQuery
        return stride(from: 0, to: count, by: limit).map { self[$0..<Swift.min($0 + limit, count)] }
    }
}
