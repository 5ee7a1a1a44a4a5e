import Testing
@testable import Tendril
@testable import TendrilDriver

/// A class whose documents refuse lazy loads unless a query or an access says otherwise.
final class StrictMeeting: Document {
    override class var referenceFetchMode: FetchMode { .raise }
    @Field var title = ""
    @Reference<Division> var division
}

@Suite("Fetch modes: .one and .raise")
struct FetchModeTests {
    @Test("under .raise a reference the cache cannot serve throws, naming class, field, id and prefetch; nothing is sent")
    func raiseRefusesAndNames() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await MeetingFixture.seed(3, in: database)
            let meeting = try await Meeting.objects.using(database).fetchMode(.raise).first().unwrapped()
            let divisionID = try meeting.division.unwrapped()
            recorder.reset()
            let error = await #expect(throws: DocumentError.self) { _ = try await meeting.$division.value }
            #expect(error?.kind == .lazyLoadRefused(referencingClass: "Meeting", property: "division"))
            #expect(error?.collection == "Division")
            #expect(error?.documentID == .objectID(divisionID))
            #expect(error?.field == "division")
            #expect(error?.description.contains("Meeting.division") == true)
            #expect(error?.description.contains(#".prefetch(\.$division)"#) == true)
            #expect(recorder.startedEvents.isEmpty)
            #expect(meeting.referenceCache.statistics.queries == 0)
        }
    }

    @Test("prefetched references resolve under .raise, and the mode is passed on to what they resolve to")
    func prefetchedResolveAndModeIsPassedOn() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await MeetingFixture.seed(10, in: database)
            let query = Meeting.objects.using(database).fetchMode(.raise)
            recorder.reset()
            let meetings = try await query.prefetch(\.$division).prefetch(\.$attendees).prefetch(\.$room) { $0.prefetch(\.$event) }.all()
            for meeting in meetings {
                _ = try await meeting.$division.value
                #expect(try await meeting.$attendees.values.count == 10)
                _ = try await meeting.$room.value?.$event.value
            }
            #expect(recorder.count(of: "find") == 5)

            // Rooms prefetched without their events: the rooms carry the query's mode.
            recorder.reset()
            let meeting = try await query.prefetch(\.$room).first().unwrapped()
            let room = try await meeting.$room.value.unwrapped()
            let error = await #expect(throws: DocumentError.self) { _ = try await room.$event.value }
            #expect(error?.kind == .lazyLoadRefused(referencingClass: "Room", property: "event"))
            #expect(recorder.count(of: "find") == 2)
        }
    }

    @Test("cached references resolve under .raise; others are refused (parent-level mode)")
    func cachedResolve() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await MeetingFixture.seed(3, in: database)
            let meeting = try await Meeting.objects.using(database).first().unwrapped()
            #expect(meeting.referenceCache.fetchMode == .peers)   // the default
            let division = try await meeting.$division.value
            meeting.referenceCache.fetchMode = .raise
            recorder.reset()
            #expect(try await meeting.$division.value === division)
            let error = await #expect(throws: DocumentError.self) { _ = try await meeting.$room.value }
            #expect(error?.kind == .lazyLoadRefused(referencingClass: "Meeting", property: "room"))
            #expect(recorder.startedEvents.isEmpty)
        }
    }

    @Test("a list is refused when any member needs a query, whole, by index or streamed")
    func listRefusedIfAnyMemberNeedsQuery() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await MeetingFixture.seed(3, in: database)
            let meeting = try await Meeting.objects.using(database).first().unwrapped()
            let first = try await meeting.$attendees.value(at: 0)
            let raising = meeting.$attendees.fetching(.raise)
            recorder.reset()
            #expect(try await raising.value(at: 0) === first)
            let error = await #expect(throws: DocumentError.self) { _ = try await raising.values }
            #expect(error?.kind == .lazyLoadRefused(referencingClass: "Meeting", property: "attendees"))
            #expect(error?.documentID == .objectID(meeting.attendees[1]))
            await #expect(throws: DocumentError.self) { for try await _ in raising {} }
            #expect(recorder.startedEvents.isEmpty)

            // Once every member is cached, the list resolves under .raise without a query.
            _ = try await meeting.$attendees.values
            recorder.reset()
            #expect(try await raising.values.count == 10)
            var streamed = 0
            for try await _ in raising { streamed += 1 }
            #expect(streamed == 10)
            #expect(recorder.startedEvents.isEmpty)
        }
    }

    @Test("a dictionary is refused when any member needs a query")
    func dictionaryRefused() async throws {
        try await TestServer.withDatabase { database, recorder in
            let ada = Pal(), alan = Pal(), grace = Pal()
            try await Pal.insert([ada, alan], into: database)
            try grace.$roles.set(ada, forKey: "lead")
            try grace.$roles.set(alan, forKey: "qa")
            try await grace.insert(into: database)
            let loaded = try await Pal.objects.using(database).fetchMode(.raise).get(grace.id.unwrapped()).unwrapped()
            _ = try await loaded.$roles.fetching(.one).value(forKey: "lead")
            recorder.reset()
            #expect(try await loaded.$roles.value(forKey: "lead")?.id == ada.id)
            let error = await #expect(throws: DocumentError.self) { _ = try await loaded.$roles.values }
            #expect(error?.kind == .lazyLoadRefused(referencingClass: "Pal", property: "roles"))
            #expect(error?.documentID == .objectID(try alan.id.unwrapped()))
            #expect(recorder.startedEvents.isEmpty)
        }
    }

    @Test("the narrowest level wins: access over parent, query over class")
    func narrowestLevelWins() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await MeetingFixture.seed(3, in: database)
            let meeting = try await Meeting.objects.using(database).fetchMode(.raise).first().unwrapped()
            recorder.reset()
            _ = try await meeting.$division.fetching(.one).value
            #expect(recorder.count(of: "find") == 1)

            let strict = StrictMeeting()
            try strict.$division.set(try await Division.objects.using(database).first().unwrapped())
            try await strict.insert(into: database)
            let loaded = try await StrictMeeting.objects.using(database).first().unwrapped()
            #expect(loaded.referenceCache.fetchMode == .raise)
            await #expect(throws: DocumentError.self) { _ = try await loaded.$division.value }
            let relaxed = try await StrictMeeting.objects.using(database).fetchMode(.one).first().unwrapped()
            #expect(try await relaxed.$division.value != nil)
            #expect(FetchMode.default == .peers)
        }
    }
}
