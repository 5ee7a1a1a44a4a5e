import Foundation
import Hummingbird
import Tendril

/// `/meetings`: create, and list or read with organiser and attendees embedded.
struct MeetingRoutes: Sendable {
    let database: MongoDatabase

    /// Organiser and attendees of a whole page arrive in two `$in` queries (prefetch); under
    /// `.raise`, a reference the prefetch did not serve throws instead of fetching one by one.
    var meetings: Query<Meeting> {
        Meeting.objects.using(database).cachePolicy(PeopleRoutes.requestPolicy)
            .prefetch(\.$organizer).prefetch(\.$attendees).fetchMode(.raise)
    }

    func add(to group: RouterGroup<BasicRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.get(":id", use: show)
    }

    /// `POST /meetings` with a meeting as JSON (`organizer` and `attendees` as ids): 201.
    @Sendable func create(_ request: Request, context: BasicRequestContext) async throws -> EditedResponse<Meeting> {
        let meeting = try await request.decode(as: Meeting.self, context: context)
        // The references must name people that exist: one `$in` query for all of them (the
        // test server cannot count by ids).
        let named = Set(meeting.attendees + [meeting.organizer].compactMap { $0 })
        let ids = BSONValue.array(named.map(BSONValue.objectID))
        let existing = try await Person.objects.using(database).filter(raw: ["_id": ["$in": ids]]).all().count
        guard existing == named.count else { throw HTTPError(.notFound, message: "a person the meeting names does not exist") }
        try await meeting.insert(into: database)
        context.logger.info("meeting created", metadata: ["id": "\(meeting.id?.hex ?? "-")"])
        return EditedResponse(status: .created, response: meeting)
    }

    /// `GET /meetings?after=ISO8601`: meetings by start time, people embedded.
    @Sendable func list(_ request: Request, context: BasicRequestContext) async throws -> Page<EmbeddingReferences<Meeting>> {
        var query = meetings.sort(\.$startsAt).limit(100)
        if let after = request.uri.queryParameters.get("after") {
            let date: Date
            do {
                date = try Date(after, strategy: .iso8601)
            } catch {
                throw HTTPError(.badRequest, message: "after is not an ISO 8601 date: \(after)")
            }
            query = query.filter(\.$startsAt > date)
        }
        var items: [EmbeddingReferences<Meeting>] = []
        for try await meeting in query {
            items.append(try await meeting.embeddingReferences(\.$organizer, \.$attendees))
        }
        return Page(items: items)
    }

    /// `GET /meetings/:id`, people embedded.
    @Sendable func show(_ request: Request, context: BasicRequestContext) async throws -> EmbeddingReferences<Meeting> {
        let id = try objectID(context)
        return try await found(meetings.get(id), id).embeddingReferences(\.$organizer, \.$attendees)
    }
}
