import Hummingbird
import Tendril

/// `/people`: create, list, read (optionally with friends embedded), update, befriend, delete.
struct PeopleRoutes: Sendable {
    let database: MongoDatabase

    /// Every query of a request sets its cache policy: the documents a request loads keep at
    /// most this many resolved references, and are freed with the request.
    static let requestPolicy = CachePolicy.lru(capacity: 64)

    var people: Query<Person> { Person.objects.using(database).cachePolicy(Self.requestPolicy) }

    func add(to group: RouterGroup<BasicRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.get(":id", use: show)
        group.put(":id", use: update)
        group.post(":id/friends/:friend", use: befriend)
        group.delete(":id", use: delete)
    }

    /// `POST /people` with a person as JSON: 201 with the stored person.
    @Sendable func create(_ request: Request, context: BasicRequestContext) async throws -> EditedResponse<Person> {
        let person = try await request.decode(as: Person.self, context: context)   // checked as a save checks it
        try await person.insert(into: database)
        context.logger.info("person created", metadata: ["id": "\(person.id?.hex ?? "-")"])
        return EditedResponse(status: .created, response: person)
    }

    /// `GET /people?limit=N`: people by name, references as ids.
    @Sendable func list(_ request: Request, context: BasicRequestContext) async throws -> Page<Person> {
        let limit = min(request.uri.queryParameters.get("limit", as: Int.self) ?? 50, 500)
        return Page(items: try await people.sort(\.$name).limit(limit).all())
    }

    /// `GET /people/:id`, `?embed=friends` to embed the friends: one `$in` query, prefetched
    /// with the person's own, under `.raise` (a reference the prefetch missed would throw,
    /// never fetch one by one).
    @Sendable func show(_ request: Request, context: BasicRequestContext) async throws -> EmbeddingReferences<Person> {
        let id = try objectID(context)
        guard request.uri.queryParameters.get("embed") == "friends" else {
            return try await found(people.get(id), id).embeddingReferences()
        }
        let person = try await found(people.prefetch(\.$friends).fetchMode(.raise).get(id), id)
        return try await person.embeddingReferences(\.$friends)
    }

    /// `PUT /people/:id` with the fields to change: only what the JSON names is saved.
    @Sendable func update(_ request: Request, context: BasicRequestContext) async throws -> Person {
        let id = try objectID(context)
        let changes = try await request.decode(as: Person.self, context: context)
        let person = try await found(people.get(id), id)
        person.apply(changesFrom: changes)
        try await person.save(in: database)
        return person
    }

    /// `POST /people/:id/friends/:friend`: adds a friend (both must exist).
    @Sendable func befriend(_ request: Request, context: BasicRequestContext) async throws -> Person {
        let person = try await found(people.get(objectID(context)), objectID(context))
        let friend = try await found(people.get(objectID(context, "friend")), objectID(context, "friend"))
        if !person.friends.contains(try friend.requireID()) { try person.$friends.append(friend) }
        try await person.save(in: database)
        return person
    }

    /// `DELETE /people/:id`: 204; the person leaves every friend list and meeting.
    @Sendable func delete(_ request: Request, context: BasicRequestContext) async throws -> HTTPResponse.Status {
        let person = try await found(people.get(objectID(context)), objectID(context))
        try await person.delete(from: database)
        return .noContent
    }
}

extension Document {
    /// The id of a stored document.
    func requireID() throws -> ObjectID {
        guard let id else { throw DocumentError(.notInserted, collection: Self.collectionName, documentID: nil) }
        return id
    }
}

/// The document, or a 404 naming the collection and id.
func found<Model: Document>(_ document: Model?, _ id: ObjectID) throws -> Model {
    guard let document else { throw HTTPError(.notFound, message: "no \(Model.collectionName) document \(id.hex)") }
    return document
}
