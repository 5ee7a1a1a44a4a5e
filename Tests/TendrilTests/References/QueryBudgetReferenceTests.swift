import Testing
@testable import Tendril
@testable import TendrilDriver

@Suite("Query budget: reference resolution and prefetch")
struct QueryBudgetReferenceTests {
    @Test("lazy resolution on Tendril's threads counts one command per query it sends")
    func countsLazyResolution() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await MeetingFixture.seed(10, in: database)
            recorder.reset()
            let (events, commandsSent) = try await QueryBudget.count {
                var events: [String] = []
                // One at a time on purpose: a query per access, each counted.
                for meeting in try await Meeting.objects.using(database).fetchMode(.one).all() {
                    _ = try await meeting.$division.value
                    _ = try await meeting.$attendees.values
                    events.append(try await meeting.$room.value?.$event.value?.name ?? "-")
                }
                return events
            }
            #expect(events.count == 10)
            #expect(commandsSent == 1 + 10 * 4, "meetings, then division, attendees ($in), room and event per meeting")
            #expect(recorder.startedEvents.count == commandsSent)
        }
    }

    @Test("a prefetch within its budget passes; one command short, the last find is refused unsent")
    func prefetchWithinAndBeyondBudget() async throws {
        try await TestServer.withDatabase { database, recorder in
            try await MeetingFixture.seed(10, in: database)
            let query = Meeting.objects.using(database)
                .prefetch(\.$division)
                .prefetch(\.$attendees)
                .prefetch(\.$room) { $0.prefetch(\.$event) }
            let meetings = try await QueryBudget.limit(5) {
                let meetings = try await query.all()
                // Prefetched references resolve from the cache: no command.
                for meeting in meetings { _ = try await meeting.$room.value?.$event.value }
                return meetings
            }
            #expect(meetings.count == 10)

            recorder.reset()
            let error = await #expect(throws: QueryBudgetExceeded.self) {
                try await QueryBudget.limit(4) { try await query.all() }
            }
            #expect(error == QueryBudgetExceeded(limit: 4, commandName: "find", collectionName: "Event"))
            #expect(recorder.commands(named: "find").compactMap { $0["find"]?.stringValue } == ["Meeting", "Division", "Attendee", "Room"])
        }
    }

    @Test("blocking resolution from a task's own thread counts toward the task's budget")
    func countsBlockingResolution() async throws {
        try await TestServer.withDatabase { database, _ in
            try await MeetingFixture.seed(3, in: database)
            // One at a time on purpose: three divisions, three queries (peers would send one).
            let meetings = try await Meeting.objects.using(database).fetchMode(.one).all()
            let error = await #expect(throws: QueryBudgetExceeded.self) {
                try await QueryBudget.limit(2) {
                    try resolveDivisionsBlocking(meetings)
                }
            }
            #expect(error == QueryBudgetExceeded(limit: 2, commandName: "find", collectionName: "Division"))
        }
    }

    /// Resolves each meeting's division with the blocking API, on the calling thread.
    private func resolveDivisionsBlocking(_ meetings: [Meeting]) throws {
        for meeting in meetings { _ = try meeting.$division.blockingValue() }
    }
}
